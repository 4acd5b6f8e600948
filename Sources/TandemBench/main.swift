// tandem-bench: measurements driven by the scripts in bench/ (each subcommand
// prints one JSON object on stdout).
import ArgumentParser

/// Enter through AsyncParsableCommand's `main()`: a plain `TandemBench.main()` from
/// top-level code resolves to the synchronous one, which refuses async commands.
func enter<Command: AsyncParsableCommand>(_ command: Command.Type) async {
    await command.main()
}

await enter(TandemBench.self)
