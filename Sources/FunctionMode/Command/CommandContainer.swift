import Engine

/// The container of one `command`-contract invocation: the event goes to the
/// process's stdin, the result comes from its stdout, and the container is
/// used once. Locked down like ``EnvironmentContainer`` (read-only root, sized
/// `/tmp`, no capabilities, no-new-privileges, pids and memory limits, CPU in
/// proportion to memory, unprivileged user), and with **no network at all**
/// (`NetworkMode: none`): a command talks only over its standard streams, and
/// such a container starts ~30% faster here.
public enum CommandContainer {
    /// Labels that let a restarted controller find (and remove) what it started.
    public static func labels(function: String, requestID: InvocationID, project: String) -> [String: String] {
        [
            "tandem.workload": function,
            "tandem.mode": "function",
            "tandem.project": project,
            "tandem.contract": "command",
            "tandem.request": requestID.rawValue,
        ]
    }

    /// The Lambda variables that mean something without a Runtime API, plus the
    /// function's own (which may not override them). `AWS_LAMBDA_REQUEST_ID`
    /// stands in for the `Lambda-Runtime-Aws-Request-Id` header a runtime would get.
    public static func variables(
        _ definition: FunctionDefinition, requestID: InvocationID, settings: FunctionHostSettings
    ) -> [String: String] {
        var variables = definition.environment
        let reserved: [String: String] = [
            "AWS_LAMBDA_FUNCTION_NAME": definition.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": String(definition.memoryMiB),
            "AWS_LAMBDA_REQUEST_ID": requestID.rawValue,
            "AWS_REGION": settings.region,
            "AWS_DEFAULT_REGION": settings.region,
            "AWS_EXECUTION_ENV": "AWS_Lambda_tandem_command",
            "TZ": ":UTC",
        ]
        variables.merge(reserved) { _, lambda in lambda }
        return variables
    }

    public static func spec(
        _ definition: FunctionDefinition, requestID: InvocationID, settings: FunctionHostSettings
    ) -> ContainerSpec {
        let variables = variables(definition, requestID: requestID, settings: settings)
        var spec = ContainerSpec(
            image: definition.image, cmd: definition.command,
            labels: labels(function: definition.name, requestID: requestID, project: settings.project))
        spec.entrypoint = definition.entrypoint
        spec.env = variables.keys.sorted().map { "\($0)=\(variables[$0] ?? "")" }
        // Lambda runs functions as an unprivileged user (sbx_user1051, uid 993).
        spec.user = "993:990"
        // The event arrives on stdin through the attach connection; StdinOnce
        // makes the engine close the process's stdin when that input ends.
        spec.openStdin = true
        spec.stdinOnce = true
        spec.attachStdin = true
        spec.attachStdout = true
        spec.attachStderr = true
        spec.tty = false
        spec.hostConfig = EnvironmentContainer.lockedDown(definition, settings: settings, network: "none")
        return spec
    }
}
