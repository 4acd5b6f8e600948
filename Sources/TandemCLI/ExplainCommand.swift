import ArgumentParser
import Foundation
import Manifest
import Placement

/// `tandem explain NAME [-f FILE]`: the whole reasoning behind one workload's placement.
struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show the reasoning behind one workload's placement, with its figures.",
        discussion: """
            The hard rules checked, each cost formula with the numbers plugged in, the \
            break-even rate, the cold-start model, the latency SLO check, the provisioned \
            concurrency option, the machine check and the hysteresis band. Needs no engine.
            """
    )

    @Argument(help: "The workload's name in the manifest.")
    var name: String

    @OptionGroup var manifestOptions: ManifestOptions

    @OptionGroup var machineOptions: MachineOptions

    func run() async throws {
        let manifest = try manifestOptions.loadManifest()
        guard let workload = manifest.workload(named: name) else {
            let names = manifest.workloads.map(\.name)
            let known = names.isEmpty ? "the manifest has no workloads" : "workloads: " + names.joined(separator: ", ")
            FileHandle.standardError.write(Data("error: no workload named \"\(name)\"; \(known)\n".utf8))
            throw ExitCode.failure
        }
        let model = PlacementModel()
        let input = PlacementInput(workload: workload)
        let prices = Prices(pricing: manifest.pricing)
        let decision = model.decide(input, prices: prices, machine: try machineOptions.capacity())
        let text = model.explanation(of: decision, for: input, prices: prices)
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
