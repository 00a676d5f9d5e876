extension CommandLineParser {
    /// The version natsd reports (`-v`, and the server's INFO).
    public static let version = "2.11.0"

    /// `natsd: v<version>`, as printed by `-v`.
    public static var versionText: String { "natsd: v\(version)" }

    /// The `-h` text: nats-server's grouped layout, natsd's own wording, only the flags natsd honours.
    public static let usage = """

        Usage: natsd [options]

        Server Options:
            -a, --addr, --net <host>         Address to bind the client listener to (default: 0.0.0.0)
            -p, --port <port>                Client port, -1 for a random one (default: 4222)
            -n, --name
                --server_name <server_name>  Name of this server (default: its generated ID)
            -P, --pid <file>                 Write the process ID to this file
            -m, --http_port <port>           Serve HTTP monitoring on this port
            -c, --config <file>              Read options from this config file (flags win over it)
                --loops <n>                  Event loops (threads) serving connections (default: one per core)
            -t                               Check the config file and exit
            -sl,--signal <signal>[=<pid>]    Signal a running natsd (ldm, stop, quit, term, reopen, reload)
                                             <pid> is a process ID or the path of a PID file
                --client_advertise <string>  Client URL to announce to the cluster
                --ports_file_dir <dir>       Write <executable>_<pid>.ports listing the bound ports into <dir>

        Logging Options:
            -l, --log <file>                 Append log lines to this file instead of stderr
            -T, --logtime                    Put a timestamp on each log line (default: true)
                --logtime_utc                Timestamps in UTC instead of local time
            -D, --debug                      Log debug messages
            -V, --trace                      Log every protocol line
            -VV                              Verbose trace (the system account as well)
            -DV                              Debug and trace
            -DVV                             Debug and verbose trace
                --log_size_limit <limit>     Rotate the log file at this size (default: never)
                --max_traced_msg_len <len>   Cut traced message bodies to this length (default: no limit)

        Authorization Options:
                --user <user>                User name clients must present
                --pass <password>            Password clients must present
                --auth <token>               Token clients must present

        TLS Options:
                --tls                        Enable TLS, do not verify clients (default: false)
                --tlscert <file>             Server certificate file
                --tlskey <file>              Private key for server certificate
                --tlsverify                  Enable TLS, verify client certificates
                --tlscacert <file>           Client certificate CA for verification

        Cluster Options:
                --routes <rurl-1, rurl-2>    Route URLs to connect to, comma separated
                --cluster <cluster-url>      URL to listen on for routes, e.g. nats://0.0.0.0:6222
                --cluster_name <string>      Cluster name (default: generated)
                --no_advertise <bool>        Keep cluster URLs out of the INFO sent to clients
                --cluster_advertise <string> Cluster URL to announce to other servers
                --connect_retries <number>   Connection attempts for discovered (implicit) routes
                --cluster_listen <url>       Same as --cluster
                --cluster_pool_size <n>      Route connections per peer, -1 for one (default: 3)

        Common Options:
            -h, --help                       Print this text
            -v, --version                    Print the version

        """
}
