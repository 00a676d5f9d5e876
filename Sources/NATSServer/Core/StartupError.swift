/// A reason the server cannot start, worded as nats-server words it (logged as `[FTL]`).
public struct StartupError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
