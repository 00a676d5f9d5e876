import Testing
import NATSProtocol
@testable import NATSServer

/// Issue 8, point 2: the subject rewriting of stream imports (`prefix`, `to`) and service imports, and the
/// token arithmetic that maps a subscription in one account onto another.
@Suite struct SubjectTransformTests {
    func transformed(_ transform: SubjectTransform, _ subject: String) -> String {
        var bytes = Array(subject.utf8)
        return bytes.withUnsafeMutableBufferPointer { input in
            let slice = ByteSlice(start: UnsafePointer(input.baseAddress!), count: input.count)
            let output = UnsafeMutablePointer<UInt8>.allocate(capacity: transform.maximumLength(slice))
            defer { output.deallocate() }
            let count = transform.apply(slice, into: output)
            #expect(count <= transform.maximumLength(slice))
            return String(decoding: UnsafeBufferPointer(start: output, count: count), as: UTF8.self)
        }
    }

    @Test(arguments: [
        // (source, prefix, to, subject, expected)
        ("feed.>", "", "", "feed.a.b", "feed.a.b"),
        ("feed.>", "from.a", "", "feed.a.b", "from.a.feed.a.b"),
        ("feed.x", "", "local.x", "feed.x", "local.x"),
        ("feed.*", "", "local.*", "feed.one", "local.one"),
        ("a.*.b.*", "", "x.*.*", "a.1.b.2", "x.1.2"),
        ("a.>", "", "z.>", "a.b.c", "z.b.c"),
        ("a.*", "", "fixed", "a.q", "fixed"),
    ])
    func rewrites(_ source: String, _ prefix: String, _ to: String, _ subject: String, _ expected: String) {
        let transform = SubjectTransform(source: source, prefix: prefix, to: to)
        #expect(transformed(transform, subject) == expected)
    }

    @Test func sameSubjectIsIdentity() {
        #expect(SubjectTransform(source: "a.b", to: "a.b").isIdentity)
        #expect(SubjectTransform(source: "a.b").isIdentity)
        #expect(!SubjectTransform(source: "a.b", prefix: "p").isIdentity)
    }

    func tokens(_ s: String) -> [[UInt8]] { SubjectTokens.split(Array(s.utf8)) }

    @Test(arguments: [
        ("a.>", "a.b.c", true), ("a.*", "a.b", true), ("a.*", "a.>", false), ("a.b", "a.*", false),
        (">", "x", true), ("a.>", "a", false), ("a.b.c", "a.b.c", true),
    ])
    func covers(_ outer: String, _ inner: String, _ expected: Bool) {
        #expect(SubjectTokens.covers(tokens(outer), tokens(inner)) == expected)
    }

    @Test(arguments: [
        ("a.*", "*.b", true), ("a.>", "b.>", false), ("a.b", "a.c", false), ("a.*", "a.b.c", false),
        ("a.>", "a.b.c", true), ("*", ">", true),
    ])
    func intersects(_ first: String, _ second: String, _ expected: Bool) {
        #expect(SubjectTokens.intersect(tokens(first), tokens(second)) == expected)
        #expect(SubjectTokens.intersect(tokens(second), tokens(first)) == expected)
    }

    @Test(arguments: [
        ("a.*", "a.b", true), ("a.*", "a.b.c", false), ("a.>", "a.b.c", true), ("a.b", "a.bc", false),
        ("a.b", "a", false), ("*.*", "x.y", true),
    ])
    func matches(_ pattern: String, _ subject: String, _ expected: Bool) {
        var bytes = Array(subject.utf8)
        let result = bytes.withUnsafeMutableBufferPointer {
            SubjectTokens.matches(tokens(pattern), ByteSlice(start: UnsafePointer($0.baseAddress!), count: $0.count))
        }
        #expect(result == expected)
    }
}

/// nats-server's numbered wildcard references in an import's `to`.
@Suite struct SubjectTransformReferenceTests {
    @Test(arguments: [
        ("a.*.*", "b.$2.$1", "a.1.2", "b.2.1"),
        ("a.*.*", "b.{{wildcard(2)}}.{{ wildcard(1) }}", "a.x.y", "b.y.x"),
        ("a.*.>", "z.$1.>", "a.q.r.s", "z.q.r.s"),
    ])
    func numberedReferences(_ source: String, _ to: String, _ subject: String, _ expected: String) {
        let transform = SubjectTransform(source: source, to: to)
        var bytes = Array(subject.utf8)
        let result = bytes.withUnsafeMutableBufferPointer { input in
            let slice = ByteSlice(start: UnsafePointer(input.baseAddress!), count: input.count)
            let output = UnsafeMutablePointer<UInt8>.allocate(capacity: transform.maximumLength(slice))
            defer { output.deallocate() }
            return String(decoding: UnsafeBufferPointer(start: output, count: transform.apply(slice, into: output)), as: UTF8.self)
        }
        #expect(result == expected)
    }
}
