// See InboundScannerTests.swift for why this file is wrapped in BENCH_TESTS.
#if BENCH_TESTS
import Foundation
import FoundationXML
import Testing
@testable import bench

/// Checks that a document is well-formed XML and collects its elements' attributes.
private final class SVGCollector: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var text = ""

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        elements.append((elementName, attributes))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    static func parse(_ svg: String) -> SVGCollector? {
        let collector = SVGCollector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        return parser.parse() ? collector : nil
    }
}

@Suite struct ScalingChartTests {
    static let chart = ScalingChart(
        title: "msgs/s <&> \"loops\"", subtitle: "nproc 2",
        panels: [
            .init(title: "4 × 4", series: [
                .init(label: "natsd", points: [.init(loops: 2, rate: 3_000_000), .init(loops: 1, rate: 2_000_000), .init(loops: 4, rate: 3_500_000)]),
                .init(label: "nats-server", points: [.init(loops: 1, rate: 1_000_000), .init(loops: 4, rate: 1_600_000)]),
            ]),
            .init(title: "chain", series: [
                .init(label: "natsd", points: [.init(loops: 1, rate: 800_000)]),
                .init(label: "nats-server", points: []),
            ]),
        ]
    )

    @Test func wellFormedWithOnePolylineAndOneDotPerPoint() throws {
        let svg = Self.chart.render()
        let parsed = try #require(SVGCollector.parse(svg), "not well-formed XML:\n\(svg)")
        #expect(parsed.elements.first?.name == "svg")
        #expect(parsed.elements.first?.attributes["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(parsed.elements.count { $0.name == "g" } == 2, "one group per panel")
        #expect(parsed.elements.count { $0.name == "polyline" } == 3, "no line for a series without points")
        #expect(parsed.elements.count { $0.name == "circle" } == 6)
        #expect(parsed.text.contains("msgs/s <&> \"loops\""), "the title survives escaping")
        #expect(parsed.text.contains("natsd, 4 loops: 3.50 M msgs/s"))
    }

    @Test func pointsLandWhereTheAxesPutThem() throws {
        let svg = Self.chart.render()
        let parsed = try #require(SVGCollector.parse(svg))
        let axes = ScalingChart.Axes(panel: Self.chart.panels[0])
        #expect(axes.loops == [1, 2, 4])
        #expect(axes.top == 4_000_000, "3.5 M rounded up")
        // log2 x: 2 loops halfway between 1 and 4; y linear from the plot's bottom (0) to its top (4 M).
        #expect(abs(axes.x(2) - (axes.x(1) + axes.x(4)) / 2) < 1e-9)
        #expect(axes.x(1) > ScalingChart.plotLeft && axes.x(4) < ScalingChart.plotRight)
        #expect(axes.y(0) == ScalingChart.plotBottom)
        #expect(axes.y(4_000_000) == ScalingChart.plotTop)
        let circles = parsed.elements.filter { $0.name == "circle" }
            .map { "\($0.attributes["cx"] ?? "?"),\($0.attributes["cy"] ?? "?")" }
        let expected = [(1, 2_000_000.0), (2, 3_000_000), (4, 3_500_000), (1, 1_000_000), (4, 1_600_000)]
            .map { "\(format1(axes.x($0.0))),\(format1(axes.y($0.1)))" }
        #expect(Array(circles.prefix(5)) == expected, "sorted by loops within each series")
        let natsdLine = try #require(parsed.elements.first { $0.name == "polyline" }?.attributes["points"])
        #expect(natsdLine == expected.prefix(3).joined(separator: " "))
        // A panel with a single loop count puts it in the middle.
        let single = ScalingChart.Axes(panel: Self.chart.panels[1])
        #expect(single.x(1) == (ScalingChart.plotLeft + ScalingChart.plotRight) / 2)
        #expect(single.top == 800_000)
    }

    @Test func roundNumbersForTheTopOfTheScale() {
        #expect(ScalingChart.roundUp(3_500_000) == 4_000_000)
        #expect(ScalingChart.roundUp(2_000_000) == 2_000_000)
        #expect(ScalingChart.roundUp(2_100_000) == 2_400_000)
        #expect(ScalingChart.roundUp(5_630_000) == 6_000_000)
        #expect(ScalingChart.roundUp(8_100) == 10_000)
        #expect(ScalingChart.roundUp(999) == 1000)
        #expect(ScalingChart.roundUp(0) == 1)
        #expect(ScalingChart.roundUp(.nan) == 1)
    }

    @Test func emptyChartIsStillADocument() throws {
        let svg = ScalingChart(title: "t", panels: []).render()
        #expect(SVGCollector.parse(svg) != nil)
        #expect(ScalingChart.escape("a<b>&'\"") == "a&lt;b&gt;&amp;&apos;&quot;")
    }
}
#endif
