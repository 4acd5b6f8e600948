import ArgumentParser
import TandemCLI

/// Enter through AsyncParsableCommand's `main()`: a plain `Tandem.main()` from
/// top-level code resolves to the synchronous one, which refuses async commands.
func enter<Command: AsyncParsableCommand>(_ command: Command.Type) async {
    await command.main()
}

await enter(Tandem.self)
