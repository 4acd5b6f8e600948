import Testing
@testable import TandemLambdaRuntime

@Suite struct RuntimeAPITests {
    @Test("the runtime speaks API version 2018-06-01")
    func version() {
        #expect(LambdaRuntimeAPI.version == "2018-06-01")
    }
}
