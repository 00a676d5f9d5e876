/// When lame duck mode closes its clients, as nats-server spreads them (server.go `lameDuckMode`): after
/// the grace period the first client is closed at once, then one every `interval` (a random pause between
/// half the interval and the interval), the interval being what is left of `lame_duck_duration` after the
/// grace period divided by the number of clients, at most 1 s. When there are more clients than
/// milliseconds left, they are closed `batch` at a time, 1 ms apart. Spreading the closes avoids a
/// reconnect storm on the other servers of the cluster.
struct LameDuckSchedule: Equatable {
    /// The longest pause between two closes (nats-server's cap: spreading 10 clients over 2 minutes
    /// would only keep them on a server that is going away).
    static let maximumIntervalMilliseconds: UInt64 = 1000

    /// The full pause between two closes (or batches), in milliseconds, at least 1.
    let intervalMilliseconds: UInt64
    /// How many clients are closed together.
    let batch: Int

    init(intervalMilliseconds: UInt64, batch: Int) {
        self.intervalMilliseconds = intervalMilliseconds
        self.batch = batch
    }

    /// - Parameters:
    ///   - durationSeconds: `lame_duck_duration`.
    ///   - gracePeriodSeconds: `lame_duck_grace_period` (the check at start-up keeps it below the duration;
    ///     if nothing is left, the clients are spread over 1 s, as nats-server does).
    ///   - clients: the clients to close (0 counts as 1).
    init(durationSeconds: Double, gracePeriodSeconds: Double, clients: Int) {
        var spread = Int64(((durationSeconds - gracePeriodSeconds) * 1000).rounded(.down))
        if spread <= 0 { spread = 1000 }
        let count = Int64(max(clients, 1))
        let interval = spread / count
        if interval < 1 {
            intervalMilliseconds = 1
            batch = Int(count / spread)
        } else {
            intervalMilliseconds = min(UInt64(interval), Self.maximumIntervalMilliseconds)
            batch = 1
        }
    }

    /// The pause after close number `index` (0-based), or nil when none is due there: with batches,
    /// only after every `batch`-th close. `random` is any 64-bit random number.
    func pause(afterClose index: Int, random: UInt64) -> UInt64? {
        guard batch == 1 || index % batch == 0 else { return nil }
        // A pause of at least half the interval, as nats-server picks it.
        let pick = random % intervalMilliseconds
        return max(pick, intervalMilliseconds / 2)
    }
}
