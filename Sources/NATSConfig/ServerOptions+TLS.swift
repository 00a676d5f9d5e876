/// The `tls { … }` block with nats-server's keys, types and error texts (opts.go `parseTLS`).
extension ServerOptions {
    mutating func applyTLS(_ entry: ConfigEntry, _ reader: inout ConfigReader) throws(ConfigError) {
        tls = try reader.tlsOptions(entry, path: "tls")
    }
}

extension ConfigReader {
    /// A `tls { … }` block (top level or `cluster.tls`, named by `path` in refusals).
    mutating func tlsOptions(_ entry: ConfigEntry, path: String) throws(ConfigError) -> TLSOptions {
        var options = TLSOptions()
        options.position = entry.position
        for field in try map(entry).entries {
            try options.apply(field, path: path, &self)
        }
        // A certificate without its key (or the reverse) is an error at once; an empty block is not: it
        // requires TLS of every client and fails every handshake, as nats-server's does.
        if !options.certFile.isEmpty && options.keyFile.isEmpty {
            throw ConfigError("missing 'key_file' in TLS configuration", at: entry.position)
        }
        if options.certFile.isEmpty && !options.keyFile.isEmpty {
            throw ConfigError("missing 'cert_file' in TLS configuration", at: entry.position)
        }
        return options
    }
}

extension TLSOptions {
    fileprivate mutating func apply(_ field: ConfigEntry, path: String, _ reader: inout ConfigReader) throws(ConfigError) {
        switch field.key.lowercased() {
        case "cert_file": certFile = try fileName(field)
        case "key_file": keyFile = try fileName(field)
        case "ca_file": caFile = try fileName(field)
        case "verify":
            guard let value = field.value.boolValue else {
                throw ConfigError("error parsing tls config, expected 'verify' to be a boolean", at: field.position)
            }
            verify = value
        case "verify_and_map":
            guard let value = field.value.boolValue else {
                throw ConfigError("error parsing tls config, expected 'verify_and_map' to be a boolean", at: field.position)
            }
            // As nats-server: true also turns `verify` on; false leaves it as it is.
            if value { verify = true }
            verifyAndMap = value
        case "timeout": timeoutSeconds = try timeout(field)
        case "min_version": minVersion = try version(field)
        case "cipher_suites":
            cipherSuites = try names(field, what: "cipher_suites", known: Set(TLSOptions.cipherSuiteNames.keys),
                                     unknown: "unrecognized cipher")
        case "curve_preferences":
            curvePreferences = try names(field, what: "curve_preferences", known: Set(TLSOptions.curveNames.keys),
                                         unknown: "unrecognized curve preference")
        case "handshake_first", "first", "immediate": handshakeFirst = try handshakeFirst(field, path: path)
        case "insecure", "allow_insecure_cipher_suites", "verify_cert_and_check_known_urls", "connection_rate_limit",
             "pinned_certs", "cert_store", "cert_match_by", "cert_match", "cert_match_skip_invalid", "ca_certs_match",
             "certs", "certificates", "ocsp_peer":
            throw refusal(field, path: path, missing: "support for it")
        default:
            guard field.usedAsVariable else {
                throw ConfigError("error parsing tls config, unknown field \"\(field.key)\"", at: field.position)
            }
        }
    }

    private func refusal(_ field: ConfigEntry, path: String, missing: String) -> ConfigError {
        UnsupportedConfigKey.refusal("\(path).\(field.key)", missing: missing, at: field.position)
    }

    private func fileName(_ field: ConfigEntry) throws(ConfigError) -> String {
        guard let text = field.value.stringValue else {
            throw ConfigError("error parsing tls config, expected '\(field.key.lowercased())' to be filename",
                              at: field.position)
        }
        return text
    }

    /// Seconds as a number, or a Go duration string.
    private func timeout(_ field: ConfigEntry) throws(ConfigError) -> Double {
        switch field.value {
        case .int(let seconds): return Double(seconds)
        case .double(let seconds): return seconds
        case .string(let text):
            guard let seconds = GoDuration.seconds(text) else {
                throw ConfigError("error parsing tls config, 'timeout' time: invalid duration \"\(text)\"",
                                  at: field.position)
            }
            return seconds
        default:
            throw ConfigError("error parsing tls config, 'timeout' wrong type", at: field.position)
        }
    }

    /// "1.2" or "1.3"; older versions are refused as nats-server refuses them.
    private func version(_ field: ConfigEntry) throws(ConfigError) -> String {
        guard let text = field.value.stringValue else {
            throw ConfigError("error parsing tls config: 'min_version' wrong type", at: field.position)
        }
        switch text {
        case TLSOptions.version12, TLSOptions.version13: return text
        case "1.0", "1.1":
            throw ConfigError("error parsing tls config: unsupported TLS version: TLS \(text)", at: field.position)
        default:
            throw ConfigError("error parsing tls config: unknown version: \(text)", at: field.position)
        }
    }

    private func names(_ field: ConfigEntry, what: String, known: Set<String>, unknown: String) throws(ConfigError) -> [String] {
        guard case .array(let values) = field.value else {
            throw ConfigError("error parsing tls config, expected '\(what)' to be an array", at: field.position)
        }
        guard !values.isEmpty else {
            throw ConfigError("error parsing tls config, '\(what)' cannot be empty", at: field.position)
        }
        var names: [String] = []
        for value in values {
            guard let name = value.stringValue else {
                throw ConfigError("error parsing tls config, expected string in '\(what)', got \(value.typeName)",
                                  at: field.position)
            }
            guard known.contains(name) else { throw ConfigError("\(unknown) \(name)", at: field.position) }
            names.append(name)
        }
        return names
    }

    /// A boolean or "true"/"on"/"false"/"off". nats-server's fallback delay ("auto", a duration: INFO in the
    /// clear when the client sends nothing first) is refused: natsd has no fallback.
    private func handshakeFirst(_ field: ConfigEntry, path: String) throws(ConfigError) -> Bool {
        switch field.value {
        case .bool(let value): return value
        case .string(let text):
            switch text.lowercased() {
            case "true", "on": return true
            case "false", "off": return false
            case "auto", "auto_fallback": throw refusal(field, path: path, missing: "handshake_first fallback")
            default:
                if GoDuration.seconds(text) != nil { throw refusal(field, path: path, missing: "handshake_first fallback") }
                throw ConfigError("field \"\(field.key)\"'s value \"\(text)\" is invalid", at: field.position)
            }
        default:
            throw ConfigError("field \"\(field.key)\" should be a boolean or string, got \(field.value.typeName)",
                              at: field.position)
        }
    }
}
