/// Counters /varz reports, kept per loop (plain integers: each loop's worker owns its own) and added
/// up by monitoring.
package struct ServerStatistics: Sendable {
    package var inMessages = 0
    package var inBytes = 0
    package var outMessages = 0
    package var outBytes = 0
    package var totalConnections = 0
    package var slowConsumers = 0
    package var staleConnections = 0
    /// The route connections among `slowConsumers` and `staleConnections` (/varz `slow_consumer_stats`
    /// and `stale_connection_stats`; the rest are clients).
    package var slowConsumerRoutes = 0
    package var staleRoutes = 0

    package init() {}

    /// Adds another loop's counters to these.
    package mutating func add(_ other: ServerStatistics) {
        inMessages += other.inMessages
        inBytes += other.inBytes
        outMessages += other.outMessages
        outBytes += other.outBytes
        totalConnections += other.totalConnections
        slowConsumers += other.slowConsumers
        staleConnections += other.staleConnections
        slowConsumerRoutes += other.slowConsumerRoutes
        staleRoutes += other.staleRoutes
    }
}
