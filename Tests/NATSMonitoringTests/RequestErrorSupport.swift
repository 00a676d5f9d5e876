@testable import NATSMonitoring

/// The query of a monitoring request target, e.g. `query("/subsz?acc=A")`.
func query(_ target: String) throws -> MonitorQuery {
    guard let parsed = MonitorTarget(target) else { throw MonitorRequestError(message: "bad target \(target)") }
    return parsed.query
}

/// The text a decoder refuses a request with (answered 400); nil when it decodes.
func refusal<Decoded>(_ decode: () throws -> Decoded) -> String? {
    do {
        _ = try decode()
        return nil
    } catch let error as MonitorRequestError {
        return error.message
    } catch {
        return "\(error)"
    }
}
