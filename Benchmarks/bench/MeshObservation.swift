/// What the `/routez` polls of one N-node cluster showed: whether it is a full mesh yet, and after
/// `markFullMesh()` how much the routes churned.
///
/// Churn is seen as route connections (`rid` + `start`) that appear or vanish between two polls of
/// the same node. A connection that opens and closes between two polls is invisible here; the
/// duplicate-route lines in the logs (`--dup-logs`) catch those.
struct MeshObservation: Sendable {
    let nodeCount: Int
    /// The latest snapshot of every node (nil until it first answered).
    private(set) var latest: [RoutezSnapshot?]
    private(set) var isSettling = false
    /// Connections first seen after the full mesh (pool connections still opening, or replacements).
    private(set) var openedAfterMesh = 0
    /// Connections present at or after the full mesh that later vanished.
    private(set) var closedAfterMesh = 0
    /// The most connections any node had to one peer, after the full mesh.
    private(set) var maxConnectionsPerPeer = 0
    /// The fewest peers any node was routed to after the full mesh (nodeCount - 1 when none was lost).
    private(set) var fewestPeersAfterMesh: Int

    init(nodeCount: Int) {
        self.nodeCount = nodeCount
        self.latest = Array(repeating: nil, count: nodeCount)
        self.fewestPeersAfterMesh = nodeCount - 1
    }

    /// Every node answered and is routed to every other node.
    var isFullMesh: Bool {
        latest.allSatisfy { ($0?.remoteIDs.count ?? -1) >= nodeCount - 1 }
    }

    /// Peers per node in the latest polls (-1: not answering yet), for progress and timeout reports.
    var peerCounts: [Int] { latest.map { $0?.remoteIDs.count ?? -1 } }

    /// `num_routes` per node in the latest polls (nodes not answering are left out).
    var routeCounts: [Int] { latest.compactMap { $0?.numRoutes } }

    /// Records one poll of node `node`; a failed poll (nil) keeps the previous snapshot.
    mutating func record(node: Int, _ snapshot: RoutezSnapshot?) {
        guard let snapshot else { return }
        if isSettling {
            let before = Set(latest[node]?.routes ?? [])
            let now = Set(snapshot.routes)
            openedAfterMesh += now.subtracting(before).count
            closedAfterMesh += before.subtracting(now).count
            maxConnectionsPerPeer = max(maxConnectionsPerPeer, snapshot.maxConnectionsPerPeer)
            fewestPeersAfterMesh = min(fewestPeersAfterMesh, snapshot.remoteIDs.count)
        }
        latest[node] = snapshot
    }

    /// From now on changes count as churn; the latest snapshots are the baseline.
    mutating func markFullMesh() {
        isSettling = true
        for snapshot in latest {
            maxConnectionsPerPeer = max(maxConnectionsPerPeer, snapshot?.maxConnectionsPerPeer ?? 0)
        }
    }
}
