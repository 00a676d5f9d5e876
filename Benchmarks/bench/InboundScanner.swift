import Glibc

/// Counts what a NATS server sends to a benchmark client by scanning the raw byte stream in place.
///
/// Only the control lines are looked at; payloads are skipped by length, so the scanner costs a
/// few dozen byte comparisons per message and never allocates except when a control line is split
/// across two reads. `MSG`/`HMSG` frames whose sid equals `dataSID` count as data; every other
/// sid counts as a probe (the benchmark uses a second subscription to check that interest has
/// reached the publisher's server before the timed run starts).
struct InboundScanner {
    /// Sid (one ASCII byte) whose messages are the measured traffic.
    let dataSID: UInt8
    /// When set, the reply subject of every message is queued in `replies` (used by the responder,
    /// which is not on a throughput path).
    var captureReply: Bool

    private(set) var dataMessages = 0
    private(set) var probeMessages = 0
    private(set) var pings = 0
    private(set) var pongs = 0
    private(set) var infos = 0
    /// The first `-ERR` line (or a framing error) seen, without the line ending.
    private(set) var error: String?
    /// Reply subjects of messages received since the last `takeReplies()` (empty entries for
    /// messages without one), in arrival order, when `captureReply` is on.
    private(set) var replies: [[UInt8]] = []
    /// When set, the stamp at the start of every data payload of at least `SoakStamp.size` bytes is
    /// queued in `stamps` (the soak's latency and ordering checks; not on a throughput path).
    var captureStamps = false
    /// Stamps of data messages received since the last `takeStamps()`, in arrival order.
    private(set) var stamps: [SoakStamp] = []
    /// Stamp bytes of the current payload read so far, and how many are still missing.
    private var stampBytes: [UInt8] = []
    private var stampMissing = 0

    /// Payload bytes plus the trailing CRLF still to skip.
    private var payloadRemaining = 0
    /// A control line split across reads.
    private var partialLine: [UInt8] = []

    /// Longest control line accepted before the stream is declared broken.
    static let maxLineLength = 64 * 1024

    init(dataSID: UInt8 = UInt8(ascii: "1"), captureReply: Bool = false) {
        self.dataSID = dataSID
        self.captureReply = captureReply
    }

    /// Scans one chunk of received bytes.
    mutating func consume(_ bytes: UnsafeRawBufferPointer) {
        guard var cursor = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let end = cursor + bytes.count
        while cursor < end {
            if payloadRemaining > 0 {
                let skipped = min(payloadRemaining, end - cursor)
                if stampMissing > 0 { collectStamp(UnsafeBufferPointer(start: cursor, count: min(skipped, stampMissing))) }
                cursor += skipped
                payloadRemaining -= skipped
                continue
            }
            guard let found = memchr(cursor, 0x0A, end - cursor) else {
                partialLine.append(contentsOf: UnsafeBufferPointer(start: cursor, count: end - cursor))
                if partialLine.count > Self.maxLineLength, error == nil {
                    error = "control line longer than \(Self.maxLineLength) bytes"
                }
                return
            }
            let newline = UnsafePointer(found.assumingMemoryBound(to: UInt8.self))
            if partialLine.isEmpty {
                handleLine(UnsafeBufferPointer(start: cursor, count: newline - cursor))
            } else {
                partialLine.append(contentsOf: UnsafeBufferPointer(start: cursor, count: newline - cursor))
                let line = partialLine
                partialLine.removeAll(keepingCapacity: true)
                line.withUnsafeBufferPointer { handleLine($0) }
            }
            cursor = newline + 1
        }
    }

    /// Returns and clears the queued reply subjects.
    mutating func takeReplies() -> [[UInt8]] {
        defer { replies.removeAll(keepingCapacity: true) }
        return replies
    }

    /// Returns and clears the queued stamps.
    mutating func takeStamps() -> [SoakStamp] {
        defer { stamps.removeAll(keepingCapacity: true) }
        return stamps
    }

    /// Appends the start of a payload to the stamp being read; queues the stamp once complete.
    private mutating func collectStamp(_ bytes: UnsafeBufferPointer<UInt8>) {
        stampBytes.append(contentsOf: bytes)
        stampMissing -= bytes.count
        guard stampMissing == 0 else { return }
        if let stamp = SoakStamp(decoding: stampBytes) { stamps.append(stamp) }
        stampBytes.removeAll(keepingCapacity: true)
    }

    /// Convenience for tests and small control exchanges.
    mutating func consume(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { consume($0) }
    }

    private mutating func handleLine(_ rawLine: UnsafeBufferPointer<UInt8>) {
        var length = rawLine.count
        if length > 0, rawLine[length - 1] == UInt8(ascii: "\r") { length -= 1 }
        let line = UnsafeBufferPointer(rebasing: rawLine[0..<length])
        // "+OK" (verbose acknowledgements) is the only line shorter than four bytes.
        if length >= 3, line[0] == UInt8(ascii: "+"), line[1] | 0x20 == UInt8(ascii: "o"), line[2] | 0x20 == UInt8(ascii: "k") {
            return
        }
        guard length >= 4 else {
            if length > 0 { noteError(line, prefix: "unexpected line: ") }
            return
        }
        switch (line[0] | 0x20, line[1] | 0x20, line[2] | 0x20, line[3] | 0x20) {
        case (UInt8(ascii: "m"), UInt8(ascii: "s"), UInt8(ascii: "g"), UInt8(ascii: " ")):
            handleMessage(line, tokensStart: 4, hasHeaders: false)
        case (UInt8(ascii: "h"), UInt8(ascii: "m"), UInt8(ascii: "s"), UInt8(ascii: "g")):
            handleMessage(line, tokensStart: 5, hasHeaders: true)
        case (UInt8(ascii: "p"), UInt8(ascii: "i"), UInt8(ascii: "n"), UInt8(ascii: "g")):
            pings += 1
        case (UInt8(ascii: "p"), UInt8(ascii: "o"), UInt8(ascii: "n"), UInt8(ascii: "g")):
            pongs += 1
        case (UInt8(ascii: "i"), UInt8(ascii: "n"), UInt8(ascii: "f"), UInt8(ascii: "o")):
            infos += 1
        default:
            noteError(line, prefix: "")
        }
    }

    /// `MSG <subject> <sid> [reply] <size>` or `HMSG <subject> <sid> [reply] <hdr> <total>`.
    private mutating func handleMessage(_ line: UnsafeBufferPointer<UInt8>, tokensStart: Int, hasHeaders: Bool) {
        // Only three arguments matter: the sid (second), a reply (third, when present) and the
        // size (last). Ranges are plain integers, so nothing is allocated per message.
        var sid = 0..<0
        var third = 0..<0
        var last = 0..<0
        var count = 0
        var index = tokensStart
        while index < line.count {
            while index < line.count, line[index] == UInt8(ascii: " ") || line[index] == UInt8(ascii: "\t") { index += 1 }
            if index == line.count { break }
            let start = index
            while index < line.count, line[index] != UInt8(ascii: " "), line[index] != UInt8(ascii: "\t") { index += 1 }
            if count == 1 { sid = start..<index }
            if count == 2 { third = start..<index }
            last = start..<index
            count += 1
        }
        let minimum = hasHeaders ? 4 : 3
        guard count == minimum || count == minimum + 1 else {
            noteError(line, prefix: "malformed message line: ")
            return
        }
        var size = 0
        for position in last {
            let digit = line[position] &- UInt8(ascii: "0")
            guard digit < 10 else {
                noteError(line, prefix: "bad size in: ")
                return
            }
            size = size * 10 + Int(digit)
        }
        payloadRemaining = size + 2
        if sid.count == 1, line[sid.lowerBound] == dataSID {
            dataMessages += 1
            // Headers (HMSG) come before the payload; the soak publishes without them.
            if captureStamps, !hasHeaders, size >= SoakStamp.size { stampMissing = SoakStamp.size }
        } else {
            probeMessages += 1
        }
        if captureReply {
            replies.append(count == minimum + 1 ? Array(UnsafeBufferPointer(rebasing: line[third])) : [])
        }
    }

    private mutating func noteError(_ line: UnsafeBufferPointer<UInt8>, prefix: String) {
        guard error == nil else { return }
        error = prefix + String(decoding: line, as: UTF8.self)
    }
}
