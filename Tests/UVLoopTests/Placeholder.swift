import Testing
@testable import UVLoop
