import Foundation

/// The scaling curves as a standalone SVG (`bench --loops … --chart FILE`): one panel per case,
/// msgs/s (y, linear from 0) against event loops (x, log2, so 1, 2, 4, 8… are evenly spaced),
/// one line per server. Hand-written SVG 1.1 text; every value is also a `<title>` tooltip.
struct ScalingChart {
    struct Point: Equatable, Sendable {
        let loops: Int
        /// Messages per second.
        let rate: Double
    }

    struct Series: Equatable, Sendable {
        let label: String
        let points: [Point]
    }

    struct Panel: Equatable, Sendable {
        let title: String
        let series: [Series]
    }

    let title: String
    /// A smaller line under the title (the machine).
    var subtitle = ""
    let panels: [Panel]

    /// Size of one panel and its plot area inside it, in SVG user units (px).
    static let panelWidth = 440.0
    static let panelHeight = 300.0
    static let plotLeft = 72.0
    static let plotRight = 420.0
    static let plotTop = 44.0
    static let plotBottom = 250.0
    /// Panels per row.
    static let columns = 2
    /// Space above the panels for the title, the subtitle and the legend.
    static let headerHeight = 72.0
    /// Tops of the y axis within one decade; the four grid steps are then 0.25, 0.3, 0.4, 0.5 … × 10^k.
    static let scaleSteps = [1.0, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10]
    /// Line colours by series index (colour-blind-safe blue, orange, then greens/purples).
    static let colours = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9"]

    /// Where the values of one panel land: x by log2 of the loop count over the panel's range,
    /// y linearly from 0 to `top` (a round number at or above the largest rate).
    struct Axes: Equatable {
        let loops: [Int]
        let top: Double

        init(panel: Panel) {
            let points = panel.series.flatMap(\.points)
            loops = Array(Set(points.map(\.loops))).sorted()
            top = ScalingChart.roundUp(points.map(\.rate).max() ?? 0)
        }

        /// Panel-local x of `loops`; the middle when the panel has a single loop count.
        func x(_ value: Int) -> Double {
            guard let first = loops.first, let last = loops.last, last > first else {
                return (ScalingChart.plotLeft + ScalingChart.plotRight) / 2
            }
            let fraction = (log2(Double(value)) - log2(Double(first))) / (log2(Double(last)) - log2(Double(first)))
            // Keep a margin at both ends so the end points are not drawn on the frame.
            let inset = 20.0
            return ScalingChart.plotLeft + inset + fraction * (ScalingChart.plotRight - ScalingChart.plotLeft - 2 * inset)
        }

        /// Panel-local y of `rate`.
        func y(_ rate: Double) -> Double {
            ScalingChart.plotBottom - rate / top * (ScalingChart.plotBottom - ScalingChart.plotTop)
        }
    }

    /// The smallest round number at or above `value` whose quarters are round too (1 for nothing to
    /// draw): one of `scaleSteps` × 10^k, so the top leaves little empty space.
    static func roundUp(_ value: Double) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        for step in scaleSteps where step * magnitude >= value * (1 - 1e-12) {
            return step * magnitude
        }
        return 10 * magnitude
    }

    func render() -> String {
        let rows = max(1, (panels.count + Self.columns - 1) / Self.columns)
        let width = Self.panelWidth * Double(min(max(panels.count, 1), Self.columns))
        let height = Self.headerHeight + Self.panelHeight * Double(rows)
        var svg = [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            #"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\#(n(width))" height="\#(n(height))" "#
                + #"viewBox="0 0 \#(n(width)) \#(n(height))" font-family="sans-serif" font-size="12">"#,
            #"<rect width="100%" height="100%" fill="white"/>"#,
            #"<text x="\#(n(width / 2))" y="20" text-anchor="middle" font-size="15">\#(Self.escape(title))</text>"#,
            #"<text x="\#(n(width / 2))" y="37" text-anchor="middle" font-size="10">\#(Self.escape(subtitle))</text>"#,
        ]
        // The legend: one swatch per series label, in the order of the first panel that has them.
        var labels: [String] = []
        for series in panels.flatMap(\.series) where !labels.contains(series.label) { labels.append(series.label) }
        for (index, label) in labels.enumerated() {
            let x = 20.0 + Double(index) * 160
            svg.append(#"<line x1="\#(n(x))" y1="56" x2="\#(n(x + 24))" y2="56" stroke="\#(colour(index))" stroke-width="2.5"/>"#)
            svg.append(#"<text x="\#(n(x + 30))" y="60">\#(Self.escape(label))</text>"#)
        }
        for (index, panel) in panels.enumerated() {
            let left = Self.panelWidth * Double(index % Self.columns)
            let top = Self.headerHeight + Self.panelHeight * Double(index / Self.columns)
            svg.append(#"<g class="panel" transform="translate(\#(n(left)),\#(n(top)))">"#)
            svg += renderPanel(panel, colourOf: { labels.firstIndex(of: $0) ?? 0 })
            svg.append("</g>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    private func renderPanel(_ panel: Panel, colourOf: (String) -> Int) -> [String] {
        let axes = Axes(panel: panel)
        var svg = [
            #"<text x="\#(n(Self.panelWidth / 2))" y="24" text-anchor="middle" font-size="13">\#(Self.escape(panel.title))</text>"#,
            #"<rect x="\#(n(Self.plotLeft))" y="\#(n(Self.plotTop))" width="\#(n(Self.plotRight - Self.plotLeft))" "#
                + #"height="\#(n(Self.plotBottom - Self.plotTop))" fill="none" stroke="gray"/>"#,
        ]
        for step in 0...4 {
            let rate = axes.top * Double(step) / 4
            let y = axes.y(rate)
            svg.append(#"<line x1="\#(n(Self.plotLeft - 4))" y1="\#(n(y))" x2="\#(n(Self.plotRight))" y2="\#(n(y))" stroke="gainsboro"/>"#)
            svg.append(#"<text x="\#(n(Self.plotLeft - 8))" y="\#(n(y + 4))" text-anchor="end">\#(Self.escape(formatRate(rate)))</text>"#)
        }
        for loops in axes.loops {
            let x = axes.x(loops)
            svg.append(#"<line x1="\#(n(x))" y1="\#(n(Self.plotBottom))" x2="\#(n(x))" y2="\#(n(Self.plotBottom + 4))" stroke="gray"/>"#)
            svg.append(#"<text x="\#(n(x))" y="\#(n(Self.plotBottom + 18))" text-anchor="middle">\#(loops)</text>"#)
        }
        let middle = (Self.plotLeft + Self.plotRight) / 2
        svg.append(#"<text x="\#(n(middle))" y="\#(n(Self.plotBottom + 38))" text-anchor="middle">event loops (natsd --loops, nats-server GOMAXPROCS)</text>"#)
        let yMiddle = (Self.plotTop + Self.plotBottom) / 2
        svg.append(#"<text x="16" y="\#(n(yMiddle))" text-anchor="middle" transform="rotate(-90 16 \#(n(yMiddle)))">msgs/s</text>"#)
        for series in panel.series where !series.points.isEmpty {
            let colour = colour(colourOf(series.label))
            let points = series.points.sorted { $0.loops < $1.loops }
            let path = points.map { "\(n(axes.x($0.loops))),\(n(axes.y($0.rate)))" }.joined(separator: " ")
            svg.append(#"<polyline points="\#(path)" fill="none" stroke="\#(colour)" stroke-width="2.5"/>"#)
            for point in points {
                let tooltip = Self.escape("\(series.label), \(point.loops) loops: \(formatRate(point.rate)) msgs/s")
                svg.append(#"<circle cx="\#(n(axes.x(point.loops)))" cy="\#(n(axes.y(point.rate)))" r="4" fill="\#(colour)"><title>\#(tooltip)</title></circle>"#)
            }
        }
        return svg
    }

    private func colour(_ index: Int) -> String { Self.colours[index % Self.colours.count] }

    /// Coordinates with one decimal, locale-independent.
    private func n(_ value: Double) -> String { format1(value) }

    /// Text content and attribute values with XML's five special characters escaped.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
