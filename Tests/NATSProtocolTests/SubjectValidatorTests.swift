import Testing
import NATSProtocol

@Suite struct SubjectValidatorTests {
    // (subject, valid subscription, valid literal)
    static let table: [(String, Bool, Bool)] = [
        ("foo", true, true), ("foo.bar", true, true), ("foo.*", true, false), ("*", true, false),
        (">", true, false), ("foo.>", true, false), ("foo.*.bar.>", true, false),
        ("foo*", true, true), ("a>b", true, true), ("foo.bar*", true, true), ("$SYS.REQ", true, true),
        ("", false, false), ("foo.", false, false), (".foo", false, false), ("foo..bar", false, false),
        (".foo.", false, false), ("foo.>.bar", false, false), (">.foo", false, false), (".", false, false),
        ("foo bar", false, false), ("foo\tbar", false, false), ("foo.\r", false, false), ("a.\u{0C}", false, false),
    ]

    @Test func subjects() {
        for (subject, subscription, literal) in Self.table {
            withSlices([subject]) { s in
                #expect(SubjectValidator.isValidSubscription(s[0]) == subscription, "\(subject.debugDescription)")
                #expect(SubjectValidator.isValidLiteral(s[0]) == literal, "\(subject.debugDescription)")
            }
        }
    }

    @Test func queueNames() {
        for (queue, valid) in [("q1", true), ("a.b", true), ("*", true), ("", false), ("a b", false), ("a\tb", false)] {
            withSlices([queue]) { s in
                #expect(SubjectValidator.isValidQueueName(s[0]) == valid, "\(queue.debugDescription)")
            }
        }
    }
}
