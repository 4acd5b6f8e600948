import Foundation
import Testing

/// The AWS CLI and boto3, run as child processes against a gateway, exactly as
/// a user would run them.
public enum AWSTools {
    public static var isCI: Bool { EngineAvailability.isCI }

    public static let awsPath: String? = which("aws")
    public static let pythonPath: String? = which("python3")
    public static let hasBoto3: Bool = {
        guard let pythonPath else { return false }
        return (try? runBlocking(pythonPath, ["-c", "import boto3"]))?.status == 0
    }()

    /// AWS CLI v2 reads `--payload` as base64 unless told otherwise; v1 takes it raw
    /// and does not know `--cli-binary-format`.
    public static let cliIsVersion1: Bool = {
        guard let awsPath, let output = try? runBlocking(awsPath, ["--version"]) else { return false }
        return (output.stdout + output.stderr).hasPrefix("aws-cli/1.")
    }()

    /// Run when the tools are here, and always in CI (where a missing tool is a failure).
    public static var shouldRunCLI: Bool { awsPath != nil || isCI }
    public static var shouldRunBoto3: Bool { hasBoto3 || isCI }

    public static func requireCLI() throws -> String {
        try #require(awsPath, "the aws CLI is not installed — CI needs `pip install awscli boto3` (or apt-get install awscli python3-boto3)")
    }

    public static func requireBoto3() throws {
        try #require(hasBoto3, "python3 with boto3 is not installed — CI needs `pip install awscli boto3` (or apt-get install python3-boto3)")
    }

    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// An environment with fake credentials and no user configuration.
    public static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys where key.hasPrefix("AWS_") { environment[key] = nil }
        environment["AWS_ACCESS_KEY_ID"] = "test"
        environment["AWS_SECRET_ACCESS_KEY"] = "test"
        environment["AWS_DEFAULT_REGION"] = "us-east-1"
        environment["AWS_CONFIG_FILE"] = "/nonexistent/aws-config"
        environment["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws-credentials"
        environment["AWS_EC2_METADATA_DISABLED"] = "true"
        environment["AWS_MAX_ATTEMPTS"] = "1"
        environment["AWS_PAGER"] = ""
        return environment
    }

    /// `aws lambda invoke …` against a gateway.
    public static func lambdaInvoke(port: Int, function: String, payload: String?, outfile: String,
                             extra: [String] = [], credentials: (id: String, secret: String)? = nil) async throws -> Output {
        let aws = try requireCLI()
        var arguments = ["lambda", "invoke", "--endpoint-url", "http://127.0.0.1:\(port)", "--function-name", function]
        if let payload {
            arguments += ["--payload", payload]
            if !cliIsVersion1 { arguments += ["--cli-binary-format", "raw-in-base64-out"] }
        }
        var overrides: [String: String] = [:]
        if let credentials {
            overrides["AWS_ACCESS_KEY_ID"] = credentials.id
            overrides["AWS_SECRET_ACCESS_KEY"] = credentials.secret
        }
        return try await run(aws, arguments + extra + [outfile], environment: overrides)
    }

    /// A Python script with boto3; its arguments follow.
    public static func python(_ script: String, _ arguments: [String]) async throws -> Output {
        try requireBoto3()
        let python = try #require(pythonPath)
        return try await run(python, ["-c", script] + arguments)
    }

    /// Runs a process on its own thread: the cooperative pool keeps serving the gateway.
    public static func run(_ executable: String, _ arguments: [String], environment overrides: [String: String] = [:]) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try runBlocking(executable, arguments, environment: overrides) })
            }
            thread.start()
        }
    }

    public static func runBlocking(_ executable: String, _ arguments: [String], environment overrides: [String: String] = [:]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment.merging(overrides) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // stderr is drained on another thread so neither pipe can fill up.
        let errData = LockedData()
        let reader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errData.done { usleep(1000) }
        return Output(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.data, as: UTF8.self))
    }

    final class LockedData: @unchecked Sendable {
        private let lock = NSLock()
        private var value = Data()
        private var finished = false
        func set(_ data: Data) { lock.withLock { value = data; finished = true } }
        var done: Bool { lock.withLock { finished } }
        var data: Data { lock.withLock { value } }
    }

    public static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    public static func temporaryFile(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("tandem-gw-\(UUID().uuidString.prefix(8))-\(name)").path
    }

    public static func parse(_ text: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }
}

