/// Whole protocol lines built as arrays: control traffic that is not per message.
extension FrameEncoder {
    /// `RS+ acc subj[ q w]\r\n`; an empty account is omitted (pinned route).
    public static func routeSubscribe(account: [UInt8], subject: [UInt8], queue: [UInt8]?, weight: Int) -> [UInt8] {
        var line: [UInt8] = Array("RS+ ".utf8)
        line.reserveCapacity(account.count + subject.count + (queue?.count ?? 0) + 20)
        if !account.isEmpty { line += account; line.append(0x20) }
        line += subject
        if let queue {
            line.append(0x20)
            line += queue
            line.append(0x20)
            line += Array(String(weight).utf8)
        }
        line += [0x0D, 0x0A]
        return line
    }

    /// `RS- acc subj[ q]\r\n`; an empty account is omitted (pinned route).
    public static func routeUnsubscribe(account: [UInt8], subject: [UInt8], queue: [UInt8]?) -> [UInt8] {
        var line: [UInt8] = Array("RS- ".utf8)
        if !account.isEmpty { line += account; line.append(0x20) }
        line += subject
        if let queue {
            line.append(0x20)
            line += queue
        }
        line += [0x0D, 0x0A]
        return line
    }

    /// `-ERR 'text'\r\n`.
    public static func errLine(_ text: String) -> [UInt8] {
        Array("-ERR '\(text)'\r\n".utf8)
    }

    /// The no-responders status message for a request nobody received:
    /// `HMSG <reply> <sid> <hdr> <hdr>\r\nNATS/1.0 503\r\nNats-Subject: <orig>\r\n\r\n\r\n`.
    /// `subject` is the request's reply subject, `sid` the publisher's matching subscription.
    public static func noRespondersMessage(subject: [UInt8], sid: [UInt8], originalSubject: [UInt8]) -> [UInt8] {
        var header: [UInt8] = Array("NATS/1.0 503\r\nNats-Subject: ".utf8)
        header += originalSubject
        header += [0x0D, 0x0A, 0x0D, 0x0A]
        let size = Array(String(header.count).utf8)
        var line: [UInt8] = Array("HMSG ".utf8)
        line += subject
        line.append(0x20)
        line += sid
        line.append(0x20)
        line += size
        line.append(0x20)
        line += size
        line += [0x0D, 0x0A]
        line += header
        line += [0x0D, 0x0A]
        return line
    }

    /// `noRespondersMessage` for slices taken straight from the parser.
    public static func noRespondersMessage(subject: ByteSlice, sid: ByteSlice, originalSubject: ByteSlice) -> [UInt8] {
        noRespondersMessage(subject: subject.array, sid: sid.array, originalSubject: originalSubject.array)
    }
}
