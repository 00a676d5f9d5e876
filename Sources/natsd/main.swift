// natsd: a NATS-compatible message broker. Parses nats-server's command line, then runs the server.
import Foundation
import Logging
import NATSConfig
import NATSLogging
import NATSMonitoring
import NATSServer

// Writing to a socket the peer already closed must surface as an error, not kill the process.
signal(SIGPIPE, SIG_IGN)

let action: CommandLineAction
do {
    action = try CommandLineParser.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("natsd: \(error)\n".utf8))
    if error.showsUsage { FileHandle.standardError.write(Data((CommandLineParser.usage + "\n").utf8)) }
    exit(1)
}

switch action {
case .help(let text):
    print(text)
    exit(0)
case .version(let text):
    print(text)
    exit(0)
case .signal(let command, let pid):
    do {
        try SignalCommand.send(command, pidExpression: pid ?? "")
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("natsd: \(error)\n".utf8))
        exit(1)
    }
case .run(let options):
    do {
        try Server.checkSecurity(options)
    } catch {
        FileHandle.standardError.write(Data("natsd: \(error)\n".utf8))
        exit(1)
    }
    if options.checkConfig {
        print("natsd: configuration file \(options.configFile) is valid")
        exit(0)
    }
    let (logger, logOpenError) = NATSLogging.bootstrap(options: options)
    if logOpenError != nil { exit(1) }
    for warning in options.configWarnings { logger.warning("\(warning)") }
    // Outside the log call: swift-log evaluates a message only when its level is enabled.
    let openFilesLimit = OpenFilesLimit.raiseToHardLimit()
    logger.debug("\(OpenFilesLimit.describe(openFilesLimit))")
    do {
        let server = try Server(options: options, logger: logger)
        server.monitoringFactory = { MonitorServer(server: $0) }
        server.reopenLogFile = { try NATSLogging.reopenLogFile() }
        server.reconfigureLogging = { NATSLogging.reconfigure(options: $0) }
        // A reload reads the config file and applies the command line over it again, as at start-up.
        let arguments = Array(CommandLine.arguments.dropFirst())
        server.reloadOptionsReader = {
            if case .run(let reloaded) = try CommandLineParser.parse(arguments) { return reloaded }
            return options
        }
        try server.start()
        server.run()
        exit(0)
    } catch {
        logger.critical("\(error)")
        exit(1)
    }
}
