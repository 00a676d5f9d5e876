import Testing
@testable import NATSServer

/// `client_advertise` / cluster `advertise` values as nats-server reads them (util.go parseHostPort):
/// the advertised port is never 0 or negative, the listener's port stands in.
@Suite struct AdvertisedAddressTests {
    @Test(arguments: [
        ("nats.example.com:4333", "nats.example.com", 4333),
        ("10.0.0.1", "10.0.0.1", 5222),
        ("10.0.0.1:0", "10.0.0.1", 5222),
        ("10.0.0.1:-1", "10.0.0.1", 5222),
        ("[::1]:4333", "::1", 4333),
        ("[::1]", "::1", 5222),
        (" host:7 ", "host", 7),
    ])
    func parsed(_ advertise: String, _ host: String, _ port: Int) throws {
        let address = try #require(Server.advertisedAddress(advertise, listeningPort: 5222))
        #expect(address.host == host)
        #expect(address.port == port)
    }

    @Test(arguments: ["", "  ", "host:notaport", "host:70000", "[]"])
    func unusable(_ advertise: String) {
        #expect(Server.advertisedAddress(advertise, listeningPort: 5222) == nil)
    }
}
