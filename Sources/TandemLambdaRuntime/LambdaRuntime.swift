#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs a Swift function under the AWS Lambda Runtime API (2018-06-01): the
/// same contract AWS Lambda, the Runtime Interface Emulator and tandem serve.
///
/// ```swift
/// import TandemLambdaRuntime
///
/// LambdaRuntime.run { (event: [UInt8], context: LambdaContext) throws -> [UInt8] in
///     event
/// }
/// ```
///
/// One invocation at a time, on the calling thread: the Lambda model gives each
/// execution environment one event at a time. `run` never returns; it exits the
/// process when the Runtime API cannot be used (exit 1), as AWS runtimes do.
public enum LambdaRuntime {
    /// A function of the raw event bytes to the raw response bytes.
    public typealias Handler = (_ event: [UInt8], _ context: LambdaContext) throws -> [UInt8]

    /// Serves `handler` until the process is stopped.
    public static func run(_ handler: @escaping Handler) -> Never {
        run(initializer: { handler })
    }

    /// Calls `initializer` once (cold start: open files, read configuration),
    /// then serves the handler it returns. If `initializer` throws, the error
    /// is posted to `/runtime/init/error` and the process exits with status 1.
    public static func run(initializer: () throws -> Handler) -> Never {
        StandardStreams.lineBufferStandardOutput()
        exitOnTermination()
        do {
            let endpoint = try endpointFromEnvironment()
            try runLoop(endpoint: endpoint, initializer: initializer)
            exit(0)
        } catch {
            StandardStreams.writeError("tandem-lambda-runtime: \(error)\n")
            StandardStreams.flush()
            exit(1)
        }
    }

    /// Exits at once on SIGTERM. As PID 1 in a container the process would
    /// otherwise ignore it (the kernel drops default-action signals to PID 1),
    /// and every stop would wait out the engine's stop timeout. An initializer
    /// that needs a graceful shutdown can install its own handler.
    static func exitOnTermination() {
        signal(SIGTERM) { _ in _exit(0) }
    }

    /// `AWS_LAMBDA_RUNTIME_API` from the environment.
    static func endpointFromEnvironment() throws -> RuntimeAPIEndpoint {
        guard let value = LambdaContext.environment(LambdaRuntimeAPI.endpointVariable), !value.isEmpty else {
            throw LambdaRuntimeError(
                .missingEndpoint,
                "\(LambdaRuntimeAPI.endpointVariable) is not set: this program is a Lambda function and must be started by a Lambda runtime environment (AWS Lambda, the Runtime Interface Emulator or tandem)"
            )
        }
        return try RuntimeAPIEndpoint(parsing: value)
    }

    /// The runtime loop: initialise, then `/next` → handler → `/response` or
    /// `/error`, `maxInvocations` times (for ever when nil).
    ///
    /// Throws when the Runtime API cannot be used any more, or (after reporting
    /// it) when `initializer` throws. Returns after `maxInvocations`.
    /// - Returns: the client's statistics, for tests.
    @discardableResult
    static func runLoop(
        endpoint: RuntimeAPIEndpoint,
        maxInvocations: Int? = nil,
        initializer: () throws -> Handler
    ) throws -> LoopStatistics {
        let client = RuntimeAPIClient(endpoint: endpoint)
        let handler: Handler
        do {
            handler = try initializer()
        } catch {
            StandardStreams.writeError("tandem-lambda-runtime: initialization failed: \(error)\n")
            try client.reportInitError(ErrorDocument(error))
            throw LambdaRuntimeError(.initializationFailed, "the handler's initializer threw", underlying: error)
        }

        var statistics = LoopStatistics()
        while maxInvocations.map({ statistics.invocations < $0 }) ?? true {
            let invocation = try client.next()
            let context = invocation.context
            TraceVariable.set(context.traceID)

            let result: Result<[UInt8], any Error>
            do {
                result = .success(try handler(invocation.event, context))
            } catch {
                result = .failure(error)
            }
            StandardStreams.flush()

            switch result {
            case .success(let output):
                try client.respond(requestID: context.requestID, body: output)
            case .failure(let error):
                let document = ErrorDocument(error)
                StandardStreams.writeError("tandem-lambda-runtime: invocation \(context.requestID) failed: \(document.errorType): \(document.errorMessage)\n")
                try client.reportError(requestID: context.requestID, document)
                statistics.errors += 1
            }
            statistics.invocations += 1
        }
        statistics.connectionsOpened = client.connection.connectionsOpened
        return statistics
    }

    struct LoopStatistics: Sendable, Equatable {
        var invocations = 0
        var errors = 0
        var connectionsOpened = 0
    }
}
