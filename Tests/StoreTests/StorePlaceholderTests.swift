import Testing
@testable import Store

@Suite struct StorePlaceholderTests {
    @Test("the database file is tandem.sqlite")
    func fileName() { #expect(StoreInfo.fileName == "tandem.sqlite") }
}
