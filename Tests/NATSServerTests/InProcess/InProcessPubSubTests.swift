import Foundation
import Testing
@testable import NATSServer

/// The server core in-process, driven by raw protocol bytes: publish and subscribe, queue groups and
/// UNSUB with a maximum, on one loop and on several (the expected bytes are nats-server 2.15.1's, taken
/// from the same exchanges with it).
@Suite struct InProcessPubSubTests {
    @Test func infoDescribesTheServer() throws {
        try withServer { server in
            let (client, info) = try server.connect()
            #expect((info["port"] as? Int) == server.port)
            #expect((info["host"] as? String) == "127.0.0.1")
            #expect((info["proto"] as? Int) == 1)
            #expect((info["headers"] as? Bool) == true)
            #expect((info["max_payload"] as? Int) == 1_048_576)
            #expect(info["auth_required"] == nil)
            #expect((info["server_id"] as? String)?.count == 56)
            try client.flush()
        }
    }

    @Test(arguments: [1, 2, 4])
    func publishReachesSubscriber(loops: Int) throws {
        try withServer(loops: loops) { server in
            let (subscriber, subscriberID) = try server.connectClient()
            try subscriber.send("SUB foo 1\r\n")
            try subscriber.flush()
            let (publisher, publisherID) = try server.connectClient()
            if loops > 1 {
                let placement = server.loopsOfClients()
                #expect(placement[subscriberID] != nil && placement[subscriberID] != placement[publisherID],
                        "publisher and subscriber on the same loop: \(placement)")
            }
            try publisher.send("PUB foo 5\r\nhello\r\nPUB foo bar 2\r\nhi\r\nPUB other 1\r\nx\r\n")
            try publisher.flush()
            let expected = "MSG foo 1 5\r\nhello\r\nMSG foo 1 bar 2\r\nhi\r\n"
            #expect(try subscriber.readFrames(totalling: expected.utf8.count) == expected)
            // Nothing for `other`: the next frame is the PONG of this PING.
            try subscriber.flush()
        }
    }

    @Test func verboseClientGetsOKAfterEachOp() throws {
        try withServer { server in
            let (client, _) = try server.connect()
            try client.send("CONNECT {}\r\nSUB foo 1\r\nPUB foo 5\r\nhello\r\nUNSUB 1\r\nPING\r\n")
            let expected = "+OK\r\n+OK\r\n+OK\r\nMSG foo 1 5\r\nhello\r\n+OK\r\nPONG\r\n"
            #expect(try client.readFrames(totalling: expected.utf8.count) == expected)
        }
    }

    @Test func unsubscribeWithMaximumStopsAfterIt() throws {
        try withServer { server in
            let (client, _) = try server.connectClient()
            try client.send("SUB foo 1\r\nUNSUB 1 2\r\nSUB bar 2\r\n")
            try client.send("PUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\nPUB bar 0\r\n\r\nPING\r\n")
            let expected = "MSG foo 1 1\r\na\r\nMSG foo 1 1\r\nb\r\nMSG bar 2 0\r\n\r\nPONG\r\n"
            #expect(try client.readFrames(totalling: expected.utf8.count) == expected)
            // The subscription is gone: a later UNSUB of it is a no-op, a later message reaches nobody.
            try client.send("UNSUB 1\r\nPUB foo 1\r\nd\r\nPING\r\n")
            #expect(try client.readFrames(totalling: 6) == "PONG\r\n")
        }
    }

    /// Four members of one queue group, each on its own connection (and with 2 or 4 loops spread over
    /// the loops), get every one of 400 messages exactly once.
    @Test(arguments: [1, 2, 4])
    func queueGroupDeliversEachMessageOnce(loops: Int) throws {
        try withServer(loops: loops) { server in
            var members: [(client: RawClient, id: UInt64)] = []
            for _ in 0..<4 {
                let member = try server.connectClient()
                // `done` is a plain subscription: per-publisher order puts it after every queue message.
                try member.client.send("SUB work workers 1\r\nSUB done 2\r\n")
                try member.client.flush()
                members.append(member)
            }
            let (publisher, _) = try server.connectClient()
            if loops > 1 {
                let placement = server.loopsOfClients()
                let memberLoops = Set(members.compactMap { placement[$0.id] })
                #expect(memberLoops.count == min(loops, 4), "members' loops: \(placement)")
            }
            let count = 400
            var batch = ""
            for index in 0..<count { batch += "PUB work \(String(index).utf8.count)\r\n\(index)\r\n" }
            try publisher.send(batch + "PUB done 0\r\n\r\n")
            try publisher.flush()

            var received: [Int: Int] = [:]
            for member in members {
                var got = 0
                while true {
                    let message = try member.client.readMessage()
                    if message.sid == "2" { break }
                    #expect(message.subject == "work" && message.sid == "1")
                    received[Int(message.payload) ?? -1, default: 0] += 1
                    got += 1
                }
                // 400 random picks among 4 miss a member with probability 4 · 0.75^400 ≈ 10^-50.
                #expect(got > 0, "member \(member.id) got no message")
            }
            #expect(received.count == count && received.values.allSatisfy { $0 == 1 }, "duplicates or losses: \(received.filter { $0.value != 1 })")
            #expect(Set(received.keys) == Set(0..<count))
        }
    }

    /// Each of several publishers' 1000 messages reaches a subscriber in the order published, also when
    /// the publishers are served by other loops than the subscriber (cross-loop hand-off).
    @Test(arguments: [1, 2, 4])
    func perPublisherOrderHolds(loops: Int) throws {
        try withServer(loops: loops) { server in
            let (subscriber, subscriberID) = try server.connectClient()
            try subscriber.send("SUB feed 1\r\n")
            try subscriber.flush()
            let publisherCount = max(loops - 1, 1)
            var publishers: [(client: RawClient, id: UInt64)] = []
            for _ in 0..<publisherCount { publishers.append(try server.connectClient()) }
            if loops > 1 {
                let placement = server.loopsOfClients()
                let subscriberLoop = placement[subscriberID]
                #expect(subscriberLoop != nil)
                for publisher in publishers {
                    #expect(placement[publisher.id] != nil && placement[publisher.id] != subscriberLoop,
                            "publisher on the subscriber's loop: \(placement)")
                }
            }
            let perPublisher = 1000
            for (number, publisher) in publishers.enumerated() {
                var batch = ""
                for index in 0..<perPublisher {
                    let payload = "\(number).\(index)"
                    batch += "PUB feed \(payload.utf8.count)\r\n\(payload)\r\n"
                }
                try publisher.client.send(batch)
            }
            var next = [Int](repeating: 0, count: publisherCount)
            for _ in 0..<(publisherCount * perPublisher) {
                let message = try subscriber.readMessage()
                let parts = message.payload.split(separator: ".").compactMap { Int($0) }
                try #require(parts.count == 2 && parts[0] < publisherCount, "unexpected payload \(message.payload)")
                try #require(parts[1] == next[parts[0]], "publisher \(parts[0]): got \(parts[1]), expected \(next[parts[0]])")
                next[parts[0]] += 1
            }
            #expect(next == [Int](repeating: perPublisher, count: publisherCount))
            try subscriber.flush()
        }
    }

    @Test(arguments: [1, 3])
    func shutdownClosesConnectedClients(loops: Int) throws {
        let server = try InProcessServer(loops: loops)
        var clients: [RawClient] = []
        for _ in 0..<3 {
            let (client, _) = try server.connectClient()
            try client.send("SUB foo 1\r\n")
            try client.flush()
            clients.append(client)
        }
        server.stop()
        for client in clients { #expect(try client.readUntilClosed().isEmpty) }
    }
}
