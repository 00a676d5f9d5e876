import Foundation

/// The footnotes of a markdown report: each distinct text gets one number, `[n]`, in order of first use.
final class ReportNotes {
    private(set) var texts: [String] = []

    /// The marker of `text`, numbering it on first use.
    func mark(_ text: String) -> String {
        if let index = texts.firstIndex(of: text) { return "[\(index + 1)]" }
        texts.append(text)
        return "[\(texts.count)]"
    }

    /// The heading, the preamble bullets and one bullet per contender (its version and binary, or why it is missing).
    func header(_ heading: String, preamble: [String], contenders: [Contender]) -> [String] {
        var lines = ["## \(heading)", ""]
        lines += preamble.map { "- \($0)" }
        for contender in contenders {
            switch contender.binary {
            case .success(let path): lines.append("- \(contender.label): \(contender.version) (`\(path)`)")
            case .failure(let error): lines.append("- \(contender.label): unavailable \(mark(error.message))")
            }
        }
        return lines
    }

    /// The footnote lines to append after the table (none when nothing was marked); markdown line breaks.
    var footer: [String] {
        guard !texts.isEmpty else { return [] }
        return [""] + texts.enumerated().map { "[\($0.offset + 1)] \($0.element.replacingOccurrences(of: "\n", with: " "))  " }
    }
}
