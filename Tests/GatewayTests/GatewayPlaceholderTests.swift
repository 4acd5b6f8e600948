import Testing
@testable import Gateway

@Suite struct GatewayPlaceholderTests {
    @Test("the gateway's default address is loopback port 8080")
    func defaultAddress() { #expect(GatewayInfo.defaultAddress == "127.0.0.1:8080") }
}
