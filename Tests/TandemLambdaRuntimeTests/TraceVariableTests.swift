import Foundation
import Testing
@testable import TandemLambdaRuntime

@Suite("The trace variable and header names")
struct TraceVariableTests {
    // Its own variable: the runtime loop tests read _X_AMZN_TRACE_ID meanwhile.
    let variable = TraceVariable("TANDEM_TEST_TRACE_ID")
    func current() -> String? { getenv("TANDEM_TEST_TRACE_ID").map { String(cString: $0) } }

    @Test("each invocation's trace id replaces the last; a longer one grows the buffer; none unsets it")
    func setAndUnset() {
        for n in 0..<10_000 {
            variable.set("Root=1-00000000-\(n)")
        }
        #expect(current() == "Root=1-00000000-9999")
        let long = "Root=1-" + String(repeating: "a", count: 1000)
        variable.set(long)
        #expect(current() == long)
        variable.set("short")
        #expect(current() == "short")
        variable.set(nil)
        #expect(current() == nil)
        variable.set("back")
        #expect(current() == "back")
        variable.set(nil)
    }

    @Test("header names compare ASCII case-insensitively, and only letters fold")
    func headerNames() {
        let headers = HTTPHeaders([("Lambda-Runtime-Aws-Request-Id", "a"), ("content-length", "3"), ("X-[", "b")])
        #expect(headers["lambda-runtime-aws-request-id"] == "a")
        #expect(headers["CONTENT-LENGTH"] == "3")
        #expect(headers["Content-Lengt"] == nil)
        #expect(headers["X-{"] == nil, "[ and { differ only in bit 0x20 but are not letters")
        #expect(headers.values("Content-Length") == ["3"])
    }
}
