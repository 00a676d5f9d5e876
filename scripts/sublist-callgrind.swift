// Micro-measurement of the sublist's per-operation cost, run under callgrind by
// scripts/sublist-callgrind.sh (which builds it as a throwaway executable target in a copy of the
// package, so Package.swift stays as it is). Uses only the public `Sublist` API the server uses, so
// the same file measures any revision. One measurement per run: `sublist-callgrind <name>`.
import NATSProtocol
import NATSSublist

final class BenchSub: SublistEntry {
    let subject: [UInt8]
    let queue: [UInt8]?

    init(_ subject: String, queue: String? = nil) {
        self.subject = Array(subject.utf8)
        self.queue = queue.map { Array($0.utf8) }
    }
}

let matches = 300_000
let subscriptions = 10_000

/// Fixed-width subjects `prefix` + 8 digits, packed in one buffer so the loops only slice it.
func subjects(prefix: String, count: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    for index in 0..<count {
        let digits = String(index)
        bytes += Array(prefix.utf8) + Array(repeating: UInt8(ascii: "0"), count: 8 - digits.utf8.count) + Array(digits.utf8)
    }
    return bytes
}

/// One published subject matched `count` times: every match but the first is a cache hit.
@inline(never)
func measureHits(_ sublist: Sublist<BenchSub>, _ subject: ByteSlice, _ count: Int) -> Int {
    var total = 0
    for _ in 0..<count { total &+= sublist.match(subject).fanout }
    return total
}

/// Distinct subjects, each matched once: every match misses, walks the trie, builds and caches a
/// result and (once the cache is full) evicts one entry, like replies to unique inboxes.
@inline(never)
func measureMisses(_ sublist: Sublist<BenchSub>, _ bytes: UnsafeBufferPointer<UInt8>, width: Int) -> Int {
    var total = 0
    var offset = 0
    while offset < bytes.count {
        total &+= sublist.match(ByteSlice(start: bytes.baseAddress! + offset, count: width)).fanout
        offset += width
    }
    return total
}

/// Distinct subjects through `matchUncached` (the no-responders look-up): the trie walk alone.
/// (Each measured function's body differs a little so LLVM does not merge them into one, which would
/// hide them from --toggle-collect.)
@inline(never)
func measureUncached(_ sublist: Sublist<BenchSub>, _ bytes: UnsafeBufferPointer<UInt8>, width: Int) -> Int {
    var total = 1
    var offset = 0
    while offset < bytes.count {
        total &+= sublist.matchUncached(ByteSlice(start: bytes.baseAddress! + offset, count: width)).plain.count
        offset += width
    }
    return total
}

@inline(never)
func measureInserts(_ sublist: Sublist<BenchSub>, _ subs: [BenchSub]) -> Int {
    var inserted = 0
    for sub in subs where sublist.insert(sub) { inserted += 1 }
    return inserted
}

@inline(never)
func measureRemoves(_ sublist: Sublist<BenchSub>, _ subs: [BenchSub]) -> Int {
    var removed = 0
    for sub in subs where sublist.remove(sub) { removed -= 1 }
    return removed
}

/// A server-like sublist: a few wildcard and literal subscriptions besides the measured ones.
func populated() -> Sublist<BenchSub> {
    let sublist = Sublist<BenchSub>()
    for subject in ["foo.bar", "foo.*", "foo.>", "bar.baz.qux", "_INBOX.>", "$SYS.>", "orders.*.created"] {
        sublist.insert(BenchSub(subject))
    }
    sublist.insert(BenchSub("foo.bar", queue: "workers"))
    return sublist
}

let which = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "hit"
var checksum = 0
switch which {
case "hit":
    let sublist = populated()
    let subject = Array("foo.bar".utf8)
    checksum = subject.withUnsafeBufferPointer { measureHits(sublist, ByteSlice(UnsafeRawBufferPointer($0)), matches) }
case "miss":
    let sublist = populated()
    let bytes = subjects(prefix: "_INBOX.", count: matches)
    checksum = bytes.withUnsafeBufferPointer { measureMisses(sublist, $0, width: 15) }
case "uncached":
    let sublist = populated()
    let bytes = subjects(prefix: "_INBOX.", count: matches)
    checksum = bytes.withUnsafeBufferPointer { measureUncached(sublist, $0, width: 15) }
case "insert", "remove":
    // Unique-inbox style: 10 000 literal children under one level.
    let sublist = populated()
    let subs = (0..<subscriptions).map { BenchSub("_INBOX.client\($0).reply") }
    checksum = measureInserts(sublist, subs)
    if which == "remove" { checksum -= measureRemoves(sublist, subs) }
case "insert-fanout", "remove-fanout":
    // 10 000 clients subscribing to one subject.
    let sublist = populated()
    let subs = (0..<subscriptions).map { _ in BenchSub("updates.all") }
    checksum = measureInserts(sublist, subs)
    // The 1 000 newest, newest first: each a scan of a 10 000-entry list (9 000 after the loop).
    if which == "remove-fanout" { checksum -= measureRemoves(sublist, subs.suffix(1000).reversed()) }
default:
    fatalError("unknown measurement \(which)")
}
print("\(which) checksum \(checksum)")
