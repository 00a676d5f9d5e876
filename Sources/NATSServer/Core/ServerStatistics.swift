/// Counters /varz reports. Plain integers: everything runs on the one loop thread.
struct ServerStatistics {
    var inMessages = 0
    var inBytes = 0
    var outMessages = 0
    var outBytes = 0
    var totalConnections = 0
    var slowConsumers = 0
    var staleConnections = 0
}
