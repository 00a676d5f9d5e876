/// The lame duck keys (`lame_duck_duration`, `lame_duck_grace_period`) with nats-server's checks and
/// messages (server/opts.go, validateOptions in server/server.go).
extension ConfigReader {
    /// The shortest `lame_duck_duration` nats-server accepts, in seconds.
    static let minimumLameDuckDurationSeconds: Double = 30

    /// `lame_duck_duration`: a Go duration string of at least 30 s.
    /// - Throws: nats-server's parse and minimum errors; a number instead of a string is refused with a
    ///   clear message (nats-server fails there with a Go type-assertion text).
    func lameDuckDuration(_ entry: ConfigEntry) throws(ConfigError) -> Double {
        let seconds = try lameDuckSeconds(entry)
        guard seconds >= Self.minimumLameDuckDurationSeconds else {
            throw ConfigError("invalid lame_duck_duration of \(GoDuration.string(seconds: seconds)), minimum is 30 seconds",
                              at: entry.position)
        }
        return seconds
    }

    /// `lame_duck_grace_period`: a Go duration string, not negative; 0 means the default (10 s), as nats-server
    /// fills unset durations with their defaults.
    func lameDuckGracePeriod(_ entry: ConfigEntry) throws(ConfigError) -> Double {
        let seconds = try lameDuckSeconds(entry)
        guard seconds >= 0 else {
            throw ConfigError("invalid lame_duck_grace_period, needs to be positive", at: entry.position)
        }
        return seconds == 0 ? ServerOptions().lameDuckGracePeriodSeconds : seconds
    }

    private func lameDuckSeconds(_ entry: ConfigEntry) throws(ConfigError) -> Double {
        guard let text = entry.value.stringValue else {
            throw ConfigError("expected a duration string for \"\(entry.key)\", got \(entry.value.typeName)", at: entry.position)
        }
        guard let seconds = GoDuration.seconds(text) else {
            throw ConfigError("error parsing \(entry.key.lowercased()): time: invalid duration \"\(text)\"", at: entry.position)
        }
        return seconds
    }
}

extension ServerOptions {
    /// nats-server's start-up check: clients must have time left to be closed after the grace period.
    func validateLameDuck() throws(ConfigError) {
        guard lameDuckGracePeriodSeconds < lameDuckDurationSeconds else {
            throw ConfigError("lame duck grace period (\(GoDuration.string(seconds: lameDuckGracePeriodSeconds))) "
                              + "should be strictly lower than lame duck duration (\(GoDuration.string(seconds: lameDuckDurationSeconds)))",
                              at: nil)
        }
    }
}
