import Foundation
import FunctionMode
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceMode
import Store

/// The control socket's API (HTTP over `.tandem/tandem.sock`), used by
/// `tandem ps`, `invoke` and `down`.
///
/// - `GET /v1/ps` → ``ProcessList`` as JSON
/// - `POST /v1/functions/{name}/invocations` → the function's answer as the
///   body; `X-Tandem-Request-Id`, `X-Tandem-Function-Error` (error type) and
///   `X-Tandem-Log` (base64 of the invocation's log) as headers
/// - `POST /v1/tasks/{name}/runs` (body: the payload for its stdin) → 202
///   and `{"run": ID}`
/// - `GET /v1/tasks/runs/{id}/output` → the run's output so far, then as it
///   comes, until the run ends
/// - `GET /v1/tasks/runs/{id}` → once the run has ended, ``ProcessList/TaskRun`` as JSON
/// - `POST /v1/down[?volumes=1]` → 202, then the controller stops (and
///   removes stateful services' volumes)
struct ControlServer: Sendable {
    let controller: Controller
    let stop: StopRequests

    // Constant, valid header names: the force-unwraps cannot fail.
    static let requestIDHeader = HTTPField.Name("X-Tandem-Request-Id")!
    static let logHeader = HTTPField.Name("X-Tandem-Log")!
    static let functionErrorHeader = HTTPField.Name("X-Tandem-Function-Error")!

    func application(socketPath: String, onRunning: @escaping @Sendable () -> Void) -> some ApplicationProtocol {
        let router = Router()
        let controller = self.controller
        let stop = self.stop
        router.get("/v1/ps") { _, _ -> Response in
            try Self.json(ProcessList(controller: controller))
        }
        router.post("/v1/functions/{name}/invocations") { request, context -> Response in
            let name = try context.parameters.require("name")
            guard controller.isInvocable(name) else {
                return Self.text(.notFound, "no function named \(name) runs here; `tandem ps` lists them")
            }
            if request.uri.queryParameters["async"] == "1" {
                let payload = try await request.body.collect(upTo: 1024 * 1024)
                let id = try await controller.events.enqueue(name, payload: Array(payload.readableBytesView))
                var headers = HTTPFields()
                headers[Self.requestIDHeader] = id.rawValue
                return Response(status: .accepted, headers: headers)
            }
            let payload = try await request.body.collect(upTo: 6 * 1024 * 1024)
            let result = await controller.router.invoke(name, payload: payload, clientContext: nil, includeLog: true)
            var headers = HTTPFields()
            headers[Self.requestIDHeader] = result.requestID.rawValue
            if let log = result.log { headers[Self.logHeader] = Data(log.utf8).base64EncodedString() }
            switch result.outcome {
            case .response(let body):
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
            case .rejected(let rejection):
                return Self.text(.tooManyRequests, "\(name) is at its concurrency limit (\(rejection)); try again")
            default:
                let document = result.errorDocument
                headers[Self.functionErrorHeader] = document?.errorType ?? "Unhandled"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: document?.body ?? "")))
            }
        }
        router.post("/v1/tasks/{name}/runs") { request, context -> Response in
            let name = try context.parameters.require("name")
            let payload = try await request.body.collect(upTo: 6 * 1024 * 1024)
            let started = Result { () throws(TaskRunError) in
                try controller.tasks.start(name, payload: Array(payload.readableBytesView)).0
            }
            switch started {
            case .success(let id):
                var response = try Self.json(["run": id.rawValue])
                response.status = .accepted
                return response
            case .failure(let error):
                if case .unknownTask = error { return Self.text(.notFound, error.description) }
                return Self.text(.serviceUnavailable, error.description)
            }
        }
        router.get("/v1/tasks/runs/{id}/output") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard let output = controller.tasks.output(of: TaskRunID(id)) else {
                return Self.text(.notFound, "no run \(id) here (runs are kept until 64 more have ended)")
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/octet-stream"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                for await bytes in output.stream() { try await writer.write(ByteBuffer(bytes: bytes)) }
                try await writer.finish(nil)
            })
        }
        router.get("/v1/tasks/runs/{id}") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard let output = controller.tasks.output(of: TaskRunID(id)) else {
                return Self.text(.notFound, "no run \(id) here (runs are kept until 64 more have ended)")
            }
            let result = await output.result()
            return try Self.json(ProcessList.TaskRun(controller.taskBilling.record(result)))
        }
        router.get("/v1/dlq") { _, _ -> Response in
            let letters = try await controller.store.deadLetters()
            return try Self.json(letters.map(DeadLetter.init))
        }
        router.post("/v1/dlq/redrive") { request, _ -> Response in
            guard let queue = request.uri.queryParameters["queue"].map(String.init), !queue.isEmpty else {
                return Self.text(.badRequest, "name the queue: ?queue=NAME (`tandem dlq list` shows them)")
            }
            let count = try await controller.store.redrive(queue: queue, now: EventQueue.now())
            return Self.text(.ok, "\(count)")
        }
        router.post("/v1/down") { request, _ -> Response in
            if request.uri.queryParameters["volumes"] == "1" { stop.requestVolumeRemoval() }
            stop.request()
            return Self.text(.accepted, "stopping")
        }
        return Application(
            router: router,
            configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: "tandem-control"),
            onServerRunning: { _ in onRunning() },
            logger: controller.logger)
    }

    static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data = try encoder.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: message + "\n")))
    }
}

/// What `tandem ps` shows: each workload, its mode, and its environments.
public struct ProcessList: Codable, Sendable {
    public struct Workload: Codable, Sendable {
        public var name: String
        public var mode: String
        public var running: Bool
        public var environments: [Environment]
        /// Service mode: replicas, health, restarts.
        public var service: Service?
        /// Task mode: runs going on and the last results.
        public var task: TaskRuns?
    }

    /// A task's runs as `tandem ps` shows them.
    public struct TaskRuns: Codable, Sendable {
        public var running: Int
        public var waiting: Int
        public var reserved: Int?
        /// The last results, newest last.
        public var recent: [TaskRun]
    }

    /// One finished run of a task (also what `tandem run` reports).
    public struct TaskRun: Codable, Sendable {
        public var id: String
        public var attempts: Int
        /// `succeeded`, `failed`, `timedOut`, `outOfMemory` or `cancelled`.
        public var outcome: String
        public var exitCode: Int?
        public var reason: String
        public var durationSeconds: Double
        public var cpuSeconds: Double?
        public var maxMemoryMB: Int?
        /// What Fargate would bill for it.
        public var costUSD: Double

        init(_ record: TaskRunRecord) {
            id = record.runID
            attempts = record.attempts
            outcome = record.outcome
            exitCode = record.exitCode
            reason = record.reason
            durationSeconds = record.durationMs / 1000
            cpuSeconds = record.cpuSeconds
            maxMemoryMB = record.maxMemoryMB
            costUSD = record.costUSD
        }
    }

    /// A service as `tandem ps` shows it.
    public struct Service: Codable, Sendable {
        public struct Replica: Codable, Sendable {
            public var id: String
            public var phase: String
            public var revision: String
            public var address: String?
            public var container: String?
            /// Failed health checks in a row.
            public var failures: Int
            /// What its last failed probe said, until one succeeds.
            public var problem: String?
        }

        public struct Exit: Codable, Sendable {
            public var exitCode: Int?
            public var reason: String
            public var lastLines: [String]
        }

        public var revision: String?
        public var desired: Int
        public var ready: Int
        public var restarts: Int
        /// Requests in flight through the gateway.
        public var inFlight: Int
        /// Set while a replica waits out its crash-loop back-off.
        public var crashLoopRetrySeconds: Double?
        public var lastExit: Exit?
        public var replicas: [Replica]
    }

    public struct Environment: Codable, Sendable {
        public var id: String
        public var phase: String
        public var initialization: String
        public var invocations: Int
    }

    public var project: String
    public var workloads: [Workload]

    init(controller: Controller) {
        project = controller.project
        var environments: [String: [Environment]] = [:]
        var services: [String: Service] = [:]
        var tasks: [String: TaskRuns] = [:]
        for runner in controller.runners.values {
            for view in runner.views() {
                environments[view.name, default: []] += view.environments
                if let service = view.service { services[view.name] = service }
                if let task = view.task { tasks[view.name] = task }
            }
        }
        let running = Set(controller.runningWorkloads.map(\.name))
        workloads = controller.deployment.workloads.map { workload in
            Workload(
                name: workload.name, mode: workload.mode.rawValue,
                running: running.contains(workload.name),
                environments: (environments[workload.name] ?? []).sorted { $0.id < $1.id },
                service: services[workload.name], task: tasks[workload.name])
        }
    }
}

/// One dead letter as `tandem dlq list` shows it.
public struct DeadLetter: Codable, Sendable {
    public var id: Int64
    public var queue: String
    public var requestID: String
    public var attempts: Int
    public var reason: String
    public var lastError: String?
    public var payload: String

    init(_ message: QueueMessage) {
        let (requestID, payload) = EventQueue.open(message.payload)
        id = message.id
        queue = message.queue
        self.requestID = requestID.rawValue
        attempts = message.attempts
        reason = message.deadLetterReason ?? ""
        lastError = message.lastError
        self.payload = String(decoding: payload, as: UTF8.self)
    }
}
