import NATSJSON

/// /healthz (nats-server's `HandleHealthz` and `healthz`) for a server without JetStream: the JetStream
/// options (`js-enabled`, `js-enabled-only`, `js-server-only`, `js-meta-only`) are decoded and then have
/// nothing to check, as in nats-server when JetStream is off; `account`, `stream` and `consumer` are
/// checked for the combinations nats-server refuses; `details` switches to the list form of errors.
enum Healthz {
    /// The answer to a /healthz request with `query`.
    /// - Returns: `200 OK` with `{"status":"ok"}`, or for a stream without an account or a consumer
    ///   without a stream `400 Bad Request` with nats-server's error document; a boolean option that does
    ///   not decode is answered with nats-server's plain-text 400.
    static func respond(to query: MonitorQuery) -> MonitorResponse {
        let details: Bool
        do {
            // Decoded in nats-server's order, so the first bad one is reported.
            for name in ["js-enabled", "js-enabled-only", "js-server-only", "js-meta-only"] { _ = try query.bool(name) }
            details = try query.bool("details")
        } catch {
            return .text("400 Bad Request", error.message)
        }
        let account = query.value("account"), stream = query.value("stream"), consumer = query.value("consumer")
        let problem: String? = if account.isEmpty && !stream.isEmpty {
            "\"account\" must not be empty when checking stream health"
        } else if stream.isEmpty && !consumer.isEmpty {
            "\"stream\" must not be empty when checking consumer health"
        } else {
            nil
        }
        guard let problem else { return .json(JSON.object([("status", .string("ok"))]).rendered()) }
        let document: JSON = details
            ? .object([("status", .string("error")),
                       ("errors", .array([.object([("type", .string("BAD_REQUEST")), ("error", .string(problem))])]))])
            : .object([("status", .string("error")), ("error", .string(problem))])
        return MonitorResponse(status: "400 Bad Request", contentType: "application/json", body: document.rendered())
    }
}
