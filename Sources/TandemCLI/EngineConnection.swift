import Engine

/// The engine client of the commands that touch the engine: a `DOCKER_HOST`
/// tandem cannot use (`tcp://…`) is said in one line, not ignored.
enum EngineConnection {
    static func client() throws -> EngineClient {
        do {
            return try EngineClient()
        } catch let error as EngineError {
            throw CLIError(error.description)
        }
    }
}
