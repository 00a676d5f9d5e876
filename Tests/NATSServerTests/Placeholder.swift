import Testing
@testable import NATSServer
