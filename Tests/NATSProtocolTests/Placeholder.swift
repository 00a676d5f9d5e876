import Testing
@testable import NATSProtocol
