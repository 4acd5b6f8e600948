import Engine
import Foundation
import Testing

@Suite("Smoke")
struct SmokeTests {
    @Test("ping and version answer")
    func pingVersion() async throws {
        let client = try EngineClient()
        let ok = try await client.ping()
        #expect(ok == "OK")
        let v = try await client.apiVersion()
        #expect(v.description == "1.41")
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<1000 { try await client.ping() }
        print("1000 sequential pings:", clock.now - start, "connections:", client.http.connectionsOpened)
        let start2 = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 { group.addTask { try await client.ping() } }
            try await group.waitForAll()
        }
        print("200 concurrent pings:", clock.now - start2, "connections:", client.http.connectionsOpened)
        let bad = try EngineClient(socketPath: "/tmp/nope.sock")
        let s3 = clock.now
        do { try await bad.ping(); Issue.record("no error") } catch { print(error, clock.now - s3) }
    }
}
