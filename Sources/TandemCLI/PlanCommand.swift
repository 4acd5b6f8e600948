import ArgumentParser
import Foundation
import Manifest
import Placement

/// `tandem plan [-f FILE] [--json]`: where each workload would run, what each
/// mode would cost, and why.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show where each workload would run, what each mode would cost, and why.",
        discussion: """
            For every workload: the chosen mode, the estimated monthly cost in function mode \
            (on demand and with provisioned concurrency), service mode and task mode, the \
            break-even rate between function and service, the chance a request meets a cold \
            start, and the main reason. Needs no engine. `tandem explain NAME` shows the figures.
            """
    )

    @OptionGroup var manifestOptions: ManifestOptions

    @Flag(help: "Print a JSON document (sorted keys) instead of the table.")
    var json = false

    @OptionGroup var machineOptions: MachineOptions

    func run() async throws {
        let manifest = try manifestOptions.loadManifest()
        let decisions = PlacementModel().decide(manifest, machine: try machineOptions.capacity())
        let plan = Plan(decisions: decisions)
        FileHandle.standardOutput.write(Data((json ? plan.json() : plan.table()).utf8))
    }
}

/// `--machine-memory`: what placement checks the decisions against.
struct MachineOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Memory the machine offers workloads, e.g. 16Gi (default: this machine's memory).",
        valueName: "size"))
    var machineMemory: String?

    /// The capacity to place against: `--machine-memory`, or this machine's memory.
    func capacity() throws -> MachineCapacity {
        if let text = machineMemory {
            do {
                let size = try ByteSize(parsing: text)
                return MachineCapacity(memoryMiB: Int(clamping: size.bytes / 1_048_576))
            } catch {
                throw ValidationError("--machine-memory: \(error.message)" + (error.hint.map { " (\($0))" } ?? ""))
            }
        }
        return MachineCapacity(memoryMiB: Int(clamping: ProcessInfo.processInfo.physicalMemory / 1_048_576))
    }
}
