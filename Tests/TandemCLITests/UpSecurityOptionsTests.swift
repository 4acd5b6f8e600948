import ArgumentParser
import Testing

@testable import TandemCLI

/// `tandem up`'s gateway security options, checked before anything starts.
@Suite("up: exposure, authentication and connection limits")
struct UpSecurityOptionsTests {
    static func message(_ arguments: [String]) -> String? {
        do {
            _ = try Tandem.parseAsRoot(["up"] + arguments)
            return nil
        } catch {
            return Tandem.message(for: error)
        }
    }

    @Test("a non-loopback address needs --auth sigv4 or --insecure-public", arguments: [
        "0.0.0.0:8080", "192.168.1.10:8080", "[::]:8080", "example.com:8080",
    ])
    func publicAddressRefused(address: String) throws {
        let refusal = try #require(Self.message(["--gateway", address]), "\(address) was accepted without auth")
        #expect(refusal.contains("is not a loopback address"))
        #expect(refusal.contains("--auth sigv4 --auth-keys FILE"))
        #expect(refusal.contains("--insecure-public"))
        #expect(Self.message(["--gateway", address, "--insecure-public"]) == nil)
        #expect(Self.message(["--gateway", address, "--auth", "sigv4", "--auth-keys", "keys"]) == nil)
    }

    @Test("loopback addresses need nothing", arguments: ["127.0.0.1:8080", "127.0.0.2:9000", "localhost:8080", "[::1]:8080"])
    func loopbackAccepted(address: String) {
        #expect(Self.message(["--gateway", address]) == nil)
    }

    @Test("--auth takes none or sigv4; sigv4 needs --auth-keys, and --auth-keys needs sigv4")
    func authOptions() {
        #expect(Self.message(["--auth", "basic"])?.contains("expected none or sigv4") == true)
        #expect(Self.message(["--auth", "sigv4"])?.contains("--auth sigv4 needs --auth-keys FILE") == true)
        #expect(Self.message(["--auth-keys", "keys"])?.contains("--auth-keys is used only with --auth sigv4") == true)
    }

    @Test("timeouts must be durations above zero; at least one connection")
    func limits() {
        #expect(Self.message(["--header-timeout", "0s"])?.contains("--header-timeout must be longer than zero") == true)
        #expect(Self.message(["--idle-timeout", "soon"])?.contains("--idle-timeout: expected a duration") == true)
        #expect(Self.message(["--max-connections", "0"])?.contains("--max-connections must be at least 1") == true)
        #expect(Self.message(["--header-timeout", "5s", "--idle-timeout", "2m", "--max-connections", "64"]) == nil)
    }
}
