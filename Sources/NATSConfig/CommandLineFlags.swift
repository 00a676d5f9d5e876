extension CommandLineParser {
    /// Every flag nats-server's `ConfigureOptions` defines, by what it sets.
    enum Flag: Equatable, Sendable {
        case help, version, config, checkConfig, signal
        case port, serverName, host, clientAdvertise
        case debug, trace, verboseTrace, debugAndTrace, debugAndVerboseTrace
        case logTime, logTimeUTC, logFile, logSizeLimit, maxTracedMessageLength
        case user, password, token
        case httpPort, pidFile, portsFileDir
        case routes, cluster, clusterAdvertise, noAdvertise, connectRetries, clusterName, clusterPoolSize
        /// TLS for clients (`--tls`, `--tlsverify`, `--tlscert`, `--tlskey`, `--tlscacert`): any of them
        /// replaces the config file's `tls` block, unless `--tls=false` is given.
        case tls, tlsVerify, tlsCert, tlsKey, tlsCACert
        /// natsd's own: event loops (threads) serving connections.
        case loops
        /// JetStream's store directory: accepted and unused, as nats-server does without `-js` (nats-py's
        /// cluster launcher always passes it).
        case storeDirectory
        /// A nats-server switch natsd lacks: `=false` is harmless, turning it on is an error.
        case unsupportedBool
        /// A nats-server value flag natsd lacks: always an error.
        case unsupportedValue

        enum Kind { case bool, string, int }

        var kind: Kind {
            switch self {
            case .help, .version, .checkConfig, .debug, .trace, .verboseTrace, .debugAndTrace,
                .debugAndVerboseTrace, .logTime, .logTimeUTC, .noAdvertise, .unsupportedBool, .tls, .tlsVerify:
                .bool
            case .port, .httpPort, .logSizeLimit, .maxTracedMessageLength, .connectRetries, .clusterPoolSize, .loops:
                .int
            default:
                .string
            }
        }

        /// Flag names (without dashes) as nats-server spells them.
        static let byName: [String: Flag] = [
            "h": .help, "help": .help,
            "v": .version, "version": .version,
            "c": .config, "config": .config,
            "t": .checkConfig,
            "sl": .signal, "signal": .signal,
            "p": .port, "port": .port,
            "n": .serverName, "name": .serverName, "server_name": .serverName,
            "a": .host, "addr": .host, "net": .host,
            "client_advertise": .clientAdvertise,
            "D": .debug, "debug": .debug,
            "V": .trace, "trace": .trace,
            "VV": .verboseTrace, "DV": .debugAndTrace, "DVV": .debugAndVerboseTrace,
            "T": .logTime, "logtime": .logTime,
            "logtime_utc": .logTimeUTC,
            "l": .logFile, "log": .logFile,
            "log_size_limit": .logSizeLimit,
            "max_traced_msg_len": .maxTracedMessageLength,
            "user": .user, "pass": .password, "auth": .token,
            "m": .httpPort, "http_port": .httpPort,
            "P": .pidFile, "pid": .pidFile,
            "ports_file_dir": .portsFileDir,
            "routes": .routes,
            "cluster": .cluster, "cluster_listen": .cluster,
            "cluster_advertise": .clusterAdvertise,
            "no_advertise": .noAdvertise,
            "connect_retries": .connectRetries,
            "cluster_name": .clusterName,
            "cluster_pool_size": .clusterPoolSize,
            "loops": .loops,
            "s": .unsupportedBool, "syslog": .unsupportedBool,
            "tls": .tls, "tlsverify": .tlsVerify,
            "tlscert": .tlsCert, "tlskey": .tlsKey, "tlscacert": .tlsCACert,
            "js": .unsupportedBool, "jetstream": .unsupportedBool,
            "help_tls": .unsupportedBool,
            "ms": .unsupportedValue, "https_port": .unsupportedValue,
            "r": .unsupportedValue, "remote_syslog": .unsupportedValue,
            "profile": .unsupportedValue,
            "sd": .storeDirectory, "store_dir": .storeDirectory,
        ]
    }
}
