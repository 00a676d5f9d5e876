import Foundation

/// A throwaway CA, a server certificate for 127.0.0.1/localhost, a client certificate and a foreign CA's
/// client certificate, made once per test process with the `openssl` tool in a temporary directory.
struct TestCertificates: Sendable {
    let directory: String

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    static let shared: TestCertificates = {
        let directory = NSTemporaryDirectory() + "natsd-uvloop-tls-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory)
        certificates.makeCA("ca")
        certificates.makeCA("foreign-ca")
        certificates.makeLeaf("server", ca: "ca", subject: "/CN=localhost",
                              extensions: "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        certificates.makeLeaf("client", ca: "ca", subject: "/CN=client")
        certificates.makeLeaf("foreign-client", ca: "foreign-ca", subject: "/CN=intruder")
        return certificates
    }()

    private func openssl(_ arguments: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
            process.waitUntilExit()
        } catch {
            fatalError("openssl \(arguments): \(error)")
        }
        precondition(process.terminationStatus == 0, "openssl \(arguments) failed")
    }

    private func makeCA(_ name: String) {
        openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "\(name).key", "-out", "\(name).pem", "-days", "2", "-subj", "/CN=\(name)"])
    }

    private func makeLeaf(_ name: String, ca: String, subject: String, extensions: String? = nil) {
        openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject])
        var extra: [String] = []
        if let extensions {
            _ = FileManager.default.createFile(atPath: path("\(name).ext"), contents: Data(extensions.utf8))
            extra = ["-extfile", "\(name).ext"]
        }
        openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).pem", "-CAkey", "\(ca).key", "-CAcreateserial",
                 "-out", "\(name).pem", "-days", "2"] + extra)
    }
}
