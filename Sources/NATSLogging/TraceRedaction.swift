/// What `-V` tracing may not write: the secrets a CONNECT carries. nats-server's trace replaces the values
/// of `pass…` and `auth_token…` fields (`pass`, `password`, `auth_token`) and of `nkey`, `sig` and
/// `proxy_sig` with `[REDACTED]` (server/client.go `removeSecretsFromTrace`), on client and route
/// CONNECTs alike; natsd's trace does the same, so a trace log handed to someone else leaks no credential.
///
/// Only for tracing (a server without `-V` never calls it); the line is a copy, the CONNECT itself is
/// parsed from the bytes as received.
public enum TraceRedaction {
    /// The text shown in place of a secret.
    public static let redacted = "[REDACTED]"

    /// `json` (a CONNECT's argument, as sent) with the value of every secret field replaced by
    /// `[REDACTED]`; other fields, spacing and order unchanged. A string value ends at its closing quote
    /// (escaped quotes included); an unquoted value at `,` or `}`.
    public static func connect(_ json: String) -> String {
        json.replacing(secretField) { match in
            let (_, name, separator, value) = match.output
            let quoted = value.first == "\""
            return "\"\(name)\"\(separator)" + (quoted ? "\"\(redacted)\"" : redacted)
        }
    }

    /// `"<secret name>"`, the colon with its spacing, then the value: a JSON string or a bare token.
    nonisolated(unsafe) private static let secretField =
        #/"((?:pass|auth_token)[A-Za-z0-9_]*|nkey|sig|proxy_sig)"(\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\s]*)/#
}
