import ArgumentParser

/// The root of tandem's command tree. The `tandem` executable only calls
/// `Tandem.main()`, so every command can be exercised from tests.
@available(macOS 15, *)
public struct Tandem: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tandem",
        abstract: "Run each workload as a Lambda-style function or a Fargate-style service, and show why.",
        discussion: """
            Workloads are declared in tandem.yaml. `tandem plan` shows where each one \
            would run and what it would cost; `tandem up` runs them.
            """,
        version: TandemVersion.string,
        subcommands: [
            // Engine (foundation)
            BuildCommand.self,
            DemoCommand.self,
            // Manifest and placement
            ValidateCommand.self,
            PlanCommand.self,
            ExplainCommand.self,
            // The controller
            UpCommand.self,
            PsCommand.self,
            InvokeCommand.self,
            RunCommand.self,
            LogsCommand.self,
            DLQCommand.self,
            DownCommand.self,
        ]
    )

    public init() {}
}

public enum TandemVersion {
    public static let string = "0.1.0"
}
