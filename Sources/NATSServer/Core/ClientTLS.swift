import Foundation
import NATSConfig
import UVLoop

/// Builds the OpenSSL contexts of the `tls` block (or the `--tls*` flags) and of `cluster { tls }`, and words
/// their failures as nats-server words them (opts.go `GenTLSConfig`).
enum ClientTLS {
    /// The contexts routes use: `accepting` requires and verifies the dialing peer's certificate (nats-server
    /// always verifies route peers), `dialing` presents the same certificate and verifies the accepting peer's.
    struct RouteContexts {
        let accepting: TLSContext
        let dialing: TLSContext
        let timeoutMilliseconds: UInt64
        /// `verify_and_map`: an accepted route is authorized by its certificate naming the cluster user, not
        /// by the credentials of its CONNECT (`Cluster.authorizeRoute`). Here, so a reload of `cluster { tls }`
        /// turns it on or off with the contexts.
        let mapsCertificates: Bool
    }

    /// The route contexts for `cluster { tls }`.
    static func makeRouteContexts(_ options: TLSOptions) throws(ConfigError) -> RouteContexts {
        var verifying = options
        verifying.verify = true
        return RouteContexts(accepting: try makeContext(verifying), dialing: try makeContext(verifying, isServer: false),
                             timeoutMilliseconds: UInt64(max(options.timeoutSeconds, 0) * 1000),
                            mapsCertificates: options.verifyAndMap)
    }

    /// The server-side (or, with `isServer` false, client-side) context for `options`.
    /// - Throws: `ConfigError` at the `tls` block's position: `error parsing X509 certificate/key pair:
    ///   open FILE: REASON` for an unreadable certificate or key, `open FILE: REASON` for an unreadable
    ///   `ca_file`, OpenSSL's reason for contents it cannot use.
    static func makeContext(_ options: TLSOptions, isServer: Bool = true) throws(ConfigError) -> TLSContext {
        var configuration = TLSConfiguration(isServer: isServer)
        configuration.certificateFile = options.certFile
        configuration.privateKeyFile = options.keyFile
        configuration.caFile = options.caFile
        configuration.verifyPeer = options.verify
        configuration.minimumVersion = options.minVersion == TLSOptions.version13 ? 0x0304 : 0x0303
        configuration.cipherSuites = options.openSSLCipherSuites
        configuration.groups = options.openSSLGroups
        let keyPair = "error parsing X509 certificate/key pair"
        for file in [options.certFile, options.keyFile] where !file.isEmpty {
            if let reason = unreadable(file) {
                throw ConfigError("\(keyPair): open \(file): \(reason)", at: options.position)
            }
        }
        if !options.caFile.isEmpty, let reason = unreadable(options.caFile) {
            throw ConfigError("open \(options.caFile): \(reason)", at: options.position)
        }
        do {
            return try TLSContext(configuration)
        } catch {
            // Go's wording for the one failure operators meet most; OpenSSL's reason for the rest.
            let reason = error.description == "key values mismatch"
                ? "tls: private key does not match public key" : error.description
            throw ConfigError("\(keyPair): \(reason)", at: options.position)
        }
    }

    /// The bytes of the files a context is built from (certificate, key, CA; an unreadable file reads as
    /// empty), so a reload can tell that they changed on disk under the same paths: renewal tools overwrite
    /// certificates in place, and nats-server re-reads the files and reloads `tls` when their contents differ.
    static func fileContents(_ options: TLSOptions?) -> [[UInt8]] {
        guard let options else { return [] }
        return [options.certFile, options.keyFile, options.caFile].map { path in
            path.isEmpty ? [] : FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
        }
    }

    /// Why `path` cannot be opened for reading, worded as Go words system errors; nil when it can.
    private static func unreadable(_ path: String) -> String? {
        guard let file = fopen(path, "r") else {
            let text = String(cString: strerror(errno))
            return text.prefix(1).lowercased() + text.dropFirst()
        }
        fclose(file)
        return nil
    }
}
