import ArgumentParser
import Testing

@testable import TandemCLI

@Suite("plan and explain commands")
struct PlacementCommandTests {
    @Test("plan parses -f, --json and --machine-memory")
    func plan() throws {
        let command = try Tandem.parseAsRoot(["plan", "-f", "examples/tandem.yaml", "--json", "--machine-memory", "16Gi"])
        let plan = try #require(command as? PlanCommand)
        #expect(plan.manifestOptions.file == "examples/tandem.yaml")
        #expect(plan.json)
        #expect(try plan.machineOptions.capacity().memoryMiB == 16_384)
    }

    @Test("plan reads ./tandem.yaml by default and this machine's memory")
    func planDefaults() throws {
        let plan = try #require(try Tandem.parseAsRoot(["plan"]) as? PlanCommand)
        #expect(plan.manifestOptions.file == "tandem.yaml")
        #expect(!plan.json)
        #expect(try plan.machineOptions.capacity().memoryMiB > 0)
    }

    @Test("explain takes a workload name")
    func explain() throws {
        let explain = try #require(try Tandem.parseAsRoot(["explain", "api", "-f", "m.yaml"]) as? ExplainCommand)
        #expect(explain.name == "api")
        #expect(explain.manifestOptions.file == "m.yaml")
    }

    @Test("A bad --machine-memory is a usage error")
    func badMachineMemory() throws {
        let plan = try #require(try Tandem.parseAsRoot(["plan", "--machine-memory", "lots"]) as? PlanCommand)
        #expect(throws: ValidationError.self) { try plan.machineOptions.capacity() }
    }
}
