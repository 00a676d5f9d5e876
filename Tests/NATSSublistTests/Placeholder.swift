import Testing
@testable import NATSSublist
