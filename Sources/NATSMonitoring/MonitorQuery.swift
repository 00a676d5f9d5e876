import Foundation

/// A request the monitor rejects with `400 Bad Request` and `message` as the plain-text body, as
/// nats-server's handlers do for a parameter they cannot decode or an option they do not know.
struct MonitorRequestError: Error, Equatable {
    let message: String
}

/// A monitoring request target (`/connz?sort=idle&limit=2`) split into its path and query.
///
/// Parsed by Foundation's `URLComponents` with Go's split of strictness: the path must be a valid URL
/// path (nats-server answers `/conn%zz` with 400), while the query is parsed leniently, stray bytes
/// re-encoded instead of failing the request (Go drops a bad pair and serves the rest).
struct MonitorTarget: Equatable {
    /// The percent-decoded path, e.g. `/connz`.
    let path: String
    let query: MonitorQuery

    /// Parses an origin-form (`/path?query`) or absolute-form (`http://host/path?query`) target.
    /// Returns nil (answered `400 Bad Request`) when the part before `?` is not a valid URL path,
    /// e.g. an invalid percent escape or a control byte in the path.
    init?(_ requested: String) {
        // A request target has no fragment: Go's url.ParseRequestURI keeps a `#` as part of the path or the
        // query (`limit=1#x` is then not a number), where URLComponents would cut it off.
        let target = requested.replacingOccurrences(of: "#", with: "%23")
        let pathEnd = target.firstIndex { $0 == "?" } ?? target.endIndex
        guard URLComponents(string: String(target[..<pathEnd]), encodingInvalidCharacters: false) != nil,
              let components = URLComponents(string: target) else { return nil }
        path = components.path
        // Go's url.ParseQuery refuses a query of more than 10 000 parameters (`&`-separated, counted
        // before parsing) and nats-server then serves the request as if it had none; splitting a
        // 1 MiB query of `&`s into pairs would also take seconds on the monitoring loop.
        let separators = components.percentEncodedQuery?.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "&") ? 1 : 0) } ?? 0
        query = separators + 1 > MonitorQuery.maxParameters
            ? MonitorQuery() : MonitorQuery(percentEncodedItems: components.percentEncodedQueryItems ?? [])
    }
}

/// The query parameters of a monitoring request, decoded like Go's `url.ParseQuery`, which
/// nats-server reads them with: pairs split on `&`, name and value on the first `=`, `+` stands for a
/// space, percent escapes are decoded, and a pair whose escapes do not decode to UTF-8 is dropped.
/// Empty pairs (`?=`, `?&&`) are kept as an empty name and never match a parameter.
struct MonitorQuery: Equatable {
    /// Decoded pairs in request order; a pair without `=` has the value "".
    let items: [(name: String, value: String)]
    /// The most parameters a query may have before it is ignored whole, as Go's `url.ParseQuery` does
    /// (its `urlmaxqueryparams` default, Go 1.24 and later).
    static let maxParameters = 10_000

    init(items: [(name: String, value: String)] = []) {
        self.items = items
    }

    init(percentEncodedItems: [URLQueryItem]) {
        items = percentEncodedItems.compactMap { item in
            // Go (1.17 and later) drops a pair with a `;` in it: `;` no longer separates pairs.
            guard !item.name.contains(";") && !(item.value?.contains(";") ?? false) else { return nil }
            guard let name = MonitorQuery.formDecoded(item.name),
                  let value = MonitorQuery.formDecoded(item.value ?? "") else { return nil }
            return (name, value)
        }
    }

    static func == (lhs: MonitorQuery, rhs: MonitorQuery) -> Bool {
        lhs.items.elementsEqual(rhs.items) { $0.name == $1.name && $0.value == $1.value }
    }

    private static func formDecoded(_ text: String) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// The first value of `name`, "" when absent (Go's `Values.Get`).
    func value(_ name: String) -> String {
        items.first { $0.name == name }?.value ?? ""
    }

    /// A signed integer parameter, nil when absent or empty (nats-server's `decodeInt`).
    /// - Throws: `MonitorRequestError` with nats-server's text for anything but an optional sign and
    ///   decimal digits, or a value outside `Int`.
    func int(_ name: String) throws(MonitorRequestError) -> Int? {
        let text = value(name)
        if text.isEmpty { return nil }
        let digits = text.first == "+" || text.first == "-" ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw MonitorQuery.decodingError("int", name, "strconv.Atoi", text, "invalid syntax")
        }
        guard let number = Int(text) else {
            throw MonitorQuery.decodingError("int", name, "strconv.Atoi", text, "value out of range")
        }
        return number
    }

    /// An unsigned 64-bit parameter, nil when absent or empty (nats-server's `decodeUint64`).
    /// - Throws: `MonitorRequestError` for anything but decimal digits (no sign), or a value above `UInt64.max`.
    func uint64(_ name: String) throws(MonitorRequestError) -> UInt64? {
        let text = value(name)
        if text.isEmpty { return nil }
        guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw MonitorQuery.decodingError("uint64", name, "strconv.ParseUint", text, "invalid syntax")
        }
        guard let number = UInt64(text) else {
            throw MonitorQuery.decodingError("uint64", name, "strconv.ParseUint", text, "value out of range")
        }
        return number
    }

    /// A boolean parameter, false when absent or empty (nats-server's `decodeBool`, Go's `strconv.ParseBool`).
    /// - Throws: `MonitorRequestError` for anything but 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False.
    func bool(_ name: String) throws(MonitorRequestError) -> Bool {
        switch value(name) {
        case "": return false
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        case let text: throw MonitorQuery.decodingError("boolean", name, "strconv.ParseBool", text, "invalid syntax")
        }
    }

    /// The `subs` parameter of /connz and /routez: `detail` (any case) or a boolean (nats-server's `decodeSubs`).
    /// - Throws: `MonitorRequestError` as `bool(_:)`.
    func listsSubscriptions(_ name: String = "subs") throws(MonitorRequestError) -> Bool {
        if detailsSubscriptions(name) { return true }
        return try bool(name)
    }

    /// Whether `subs` asks for `subscriptions_list_detail` (`detail`, any case).
    func detailsSubscriptions(_ name: String = "subs") -> Bool {
        value(name).lowercased() == "detail"
    }

    /// nats-server's text for a parameter it cannot decode, e.g.
    /// `Error decoding int for 'offset': strconv.Atoi: parsing "abc": invalid syntax`.
    private static func decodingError(_ type: String, _ name: String, _ function: String, _ text: String,
                                      _ reason: String) -> MonitorRequestError {
        MonitorRequestError(message: "Error decoding \(type) for '\(name)': \(function): parsing \(quoted(text)): \(reason)")
    }

    /// The value in double quotes with `"` and `\` escaped, close to Go's `strconv.Quote` for printable text.
    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
