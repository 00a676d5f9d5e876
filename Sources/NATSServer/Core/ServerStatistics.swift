/// Counters /varz reports. Plain integers: everything runs on the one loop thread.
package struct ServerStatistics {
    package var inMessages = 0
    package var inBytes = 0
    package var outMessages = 0
    package var outBytes = 0
    package var totalConnections = 0
    package var slowConsumers = 0
    package var staleConnections = 0
}
