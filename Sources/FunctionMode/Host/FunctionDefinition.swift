import Engine

/// How the code inside a function's image is called.
public enum FunctionContract: Sendable, Equatable {
    /// It pulls events from the Lambda Runtime API (every AWS Lambda runtime).
    case lambda
    /// It serves HTTP on `port` (`$PORT` is set to it); each invocation is a request.
    case http(port: Int)
}

/// Everything function mode needs to run one workload as a Lambda-style function.
public struct FunctionDefinition: Sendable, Equatable {
    public var name: String
    public var contract: FunctionContract = .lambda
    public var image: String
    /// `_HANDLER` for the runtime.
    public var handler: String?
    public var command: [String]?
    public var entrypoint: [String]?
    public var environment: [String: String]
    /// Lambda's memory size, in MiB (128 … 10,240).
    public var memoryMiB: Int
    public var timeout: Duration
    /// Size of `/tmp`, in bytes (Lambda's ephemeral storage: 512 MiB by default).
    public var tmpBytes: Int64
    /// Most environments at once (reserved concurrency); nil: the controller's limit.
    public var reservedConcurrency: Int?
    public var provisionedConcurrency: Int
    /// Service mode (a `lambda` workload placed there): its environments are
    /// always warm — never frozen, never reaped, replaced when they die — and
    /// invocations beyond them wait for one (up to ``alwaysWarmWaitingLimit``)
    /// instead of being throttled.
    public var alwaysWarm = false
    /// Invocations that may wait for an always-warm environment.
    public static let alwaysWarmWaitingLimit = 1024

    public init(
        name: String, image: String, handler: String? = nil, command: [String]? = nil, entrypoint: [String]? = nil,
        environment: [String: String] = [:], memoryMiB: Int = 128, timeout: Duration = .seconds(3),
        tmpBytes: Int64 = 512 << 20, reservedConcurrency: Int? = nil, provisionedConcurrency: Int = 0
    ) {
        self.name = name
        self.image = image
        self.handler = handler
        self.command = command
        self.entrypoint = entrypoint
        self.environment = environment
        self.memoryMiB = memoryMiB
        self.timeout = timeout
        self.tmpBytes = tmpBytes
        self.reservedConcurrency = reservedConcurrency
        self.provisionedConcurrency = provisionedConcurrency
    }

    /// The ARN a runtime sees in `Lambda-Runtime-Invoked-Function-Arn`.
    public func arn(region: String, account: String) -> String {
        "arn:aws:lambda:\(region):\(account):function:\(name)"
    }
}

/// Settings shared by every function of one controller.
public struct FunctionHostSettings: Sendable {
    /// Most environments at once across all functions.
    public var globalConcurrency: Int
    public var freezeGrace: Duration
    public var reapAfter: Duration
    public var initTimeout: Duration
    public var region: String
    public var account: String
    /// `tandem.project` label of every container this controller starts.
    public var project: String
    /// Largest number of processes/threads in one environment (Lambda: 1,024).
    public var pidsLimit: Int64

    public init(
        globalConcurrency: Int = 64, freezeGrace: Duration = .milliseconds(50), reapAfter: Duration = .seconds(300),
        initTimeout: Duration = .seconds(10), region: String = "us-east-1", account: String = "000000000000",
        project: String = "default", pidsLimit: Int64 = 1024
    ) {
        self.globalConcurrency = globalConcurrency
        self.freezeGrace = freezeGrace
        self.reapAfter = reapAfter
        self.initTimeout = initTimeout
        self.region = region
        self.account = account
        self.project = project
        self.pidsLimit = pidsLimit
    }

    public func poolSettings(for definition: FunctionDefinition) -> PoolSettings {
        PoolSettings(
            maxEnvironments: min(definition.reservedConcurrency ?? globalConcurrency, globalConcurrency),
            provisioned: definition.provisionedConcurrency,
            freezeGrace: definition.alwaysWarm ? PoolSettings.never : freezeGrace,
            reapAfter: definition.alwaysWarm ? PoolSettings.never : reapAfter,
            timeout: definition.timeout, initTimeout: initTimeout,
            waitingLimit: definition.alwaysWarm ? FunctionDefinition.alwaysWarmWaitingLimit : 0)
    }
}

/// The container of one execution environment, locked down like Lambda's.
public enum EnvironmentContainer {
    /// Lambda gives one full vCPU at 1,769 MB and CPU in proportion to memory.
    public static let megabytesPerVCPU = 1769.0

    /// Labels that let a restarted controller find what it started.
    public static func labels(function: String, environment: EnvironmentID, project: String) -> [String: String] {
        [
            "tandem.workload": function,
            "tandem.mode": "function",
            "tandem.project": project,
            "tandem.environment": environment.rawValue,
        ]
    }

    /// The Lambda variables an environment sees, plus the function's own
    /// (which may not override the reserved ones).
    public static func variables(
        _ definition: FunctionDefinition, runtimeAPI: String, environment: EnvironmentID,
        initialization: InitializationType, settings: FunctionHostSettings, date: String
    ) -> [String: String] {
        var variables = definition.environment
        let reserved: [String: String] = [
            "AWS_LAMBDA_RUNTIME_API": runtimeAPI,
            "AWS_LAMBDA_FUNCTION_NAME": definition.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": String(definition.memoryMiB),
            "AWS_LAMBDA_INITIALIZATION_TYPE": initialization.rawValue,
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/\(definition.name)",
            "AWS_LAMBDA_LOG_STREAM_NAME": "\(date)/[$LATEST]\(environment.rawValue)",
            "AWS_REGION": settings.region,
            "AWS_DEFAULT_REGION": settings.region,
            "AWS_EXECUTION_ENV": "AWS_Lambda_tandem",
            "LAMBDA_TASK_ROOT": "/var/task",
            "LAMBDA_RUNTIME_DIR": "/var/runtime",
            "TZ": ":UTC",
            "_HANDLER": definition.handler ?? "",
        ]
        variables.merge(reserved) { _, lambda in lambda }
        return variables
    }

    public static func spec(
        _ definition: FunctionDefinition, runtimeAPI: String, environment: EnvironmentID,
        initialization: InitializationType, settings: FunctionHostSettings, date: String
    ) -> ContainerSpec {
        var variables = variables(definition, runtimeAPI: runtimeAPI, environment: environment,
                                  initialization: initialization, settings: settings, date: date)
        if case .http(let port) = definition.contract {
            // An http function serves on $PORT; it has no Runtime API.
            variables["PORT"] = String(port)
            variables["AWS_LAMBDA_RUNTIME_API"] = nil
        }
        var spec = ContainerSpec(
            image: definition.image, cmd: definition.command,
            labels: labels(function: definition.name, environment: environment, project: settings.project))
        spec.entrypoint = definition.entrypoint
        spec.env = variables.keys.sorted().map { "\($0)=\(variables[$0] ?? "")" }
        // Lambda runs functions as an unprivileged user (sbx_user1051, uid 993).
        spec.user = "993:990"
        spec.workingDir = nil
        spec.hostConfig = lockedDown(definition, settings: settings, network: "bridge")
        return spec
    }

    /// Lambda's sandbox as engine settings: memory without swap, CPU in
    /// proportion to memory, a pids limit, a read-only root with a sized
    /// tmpfs `/tmp`, no capabilities, no privilege gain, 1,024 open files.
    public static func lockedDown(_ definition: FunctionDefinition, settings: FunctionHostSettings, network: String) -> HostConfig {
        var host = HostConfig()
        let memory = Int64(definition.memoryMiB) << 20
        host.memory = memory
        host.memorySwap = memory
        host.nanoCpus = Int64((Double(definition.memoryMiB) * 1.048576 / megabytesPerVCPU * 1e9).rounded())
        host.pidsLimit = settings.pidsLimit
        host.readonlyRootfs = true
        host.tmpfs = ["/tmp": "rw,nosuid,nodev,size=\(definition.tmpBytes),mode=1777"]
        host.capDrop = ["ALL"]
        host.securityOpt = ["no-new-privileges"]
        host.ulimits = [Ulimit(name: "nofile", soft: 1024, hard: 1024)]
        host.networkMode = network
        return host
    }
}
