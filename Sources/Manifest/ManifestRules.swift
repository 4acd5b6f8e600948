/// Cross-field rules, checked after defaults are applied.
extension ManifestBuilder {
    /// Where to report a problem that involves two keys: at the one written in the
    /// workload itself, preferring the first; under `defaults:` only when both are there.
    private func spot<A, B>(_ first: Located<A>, _ second: Located<B>) -> Located<Void> {
        if first.isInWorkload || !second.isInWorkload { return first.map { _ in () } }
        return second.map { _ in () }
    }

    func resolve(_ p: PartialWorkload, name: String, at field: Field, queues: [Located<Queue>]) -> Workload? {
        let errorsBefore = reader.diagnostics.count
        var source: ImageSource?
        switch (p.image, p.build) {
        case let (image?, build?):
            let later = (image.line, image.column) > (build.line, build.column) ? image.map { _ in () } : build.map { _ in () }
            reader.error(at: spot(later, later), "give `image:` or `build:`, not both")
        case let (image?, nil): source = .image(image.value)
        case let (nil, build?): source = .build(context: build.value.context, dockerfile: build.value.dockerfile)
        case (nil, nil) where p.written.isDisjoint(with: ["image", "build"]):
            reader.error(at: field.keyNode, field.keyPath, "missing `image:` or `build:`",
                         hint: "add build: images/\(name) (a folder with a Dockerfile) or image: NAME:TAG")
        case (nil, nil): break
        }
        guard let contract = p.contract else {
            if p.written.contains("contract") { return nil }
            reader.error(at: field.keyNode, field.keyPath, "missing `contract:` (lambda, http or command)")
            return nil
        }
        let mode = p.mode?.value ?? .auto

        if let located = p.mode, mode == .function {
            if let timeout = p.timeout, timeout.value > .minutes(15) {
                reader.error(at: spot(located, timeout),
                             "mode: function allows a timeout of at most 15m (Lambda's limit), found timeout: \(timeout.value)",
                             hint: "use mode: task for longer runs, or leave mode out to let placement choose")
            }
            if let state = p.state, state.value == .stateful {
                reader.error(at: spot(located, state),
                             "mode: function cannot run a stateful workload (state: stateful): idle environments are reaped",
                             hint: "use mode: service")
            }
            if let streaming = p.streaming, streaming.value {
                reader.error(at: spot(located, streaming),
                             "mode: function cannot hold streaming connections (traffic.streaming: true)",
                             hint: "use mode: service")
            }
            if let memory = p.memory, memory.value < .mebibytes(128) || memory.value > .mebibytes(10_240) {
                reader.error(at: spot(located, memory),
                             "mode: function allows memory 128Mi…10240Mi (Lambda's 128–10,240 MB), found memory: \(memory.value)")
            }
            if let tmp = p.tmp, tmp.value < .mebibytes(512) {
                reader.error(at: spot(located, tmp),
                             "mode: function allows tmp 512Mi…10Gi (Lambda's ephemeral storage), found tmp: \(tmp.value)")
            }
            if let cpus = p.cpus, cpus.value > 6 {
                reader.error(at: spot(located, cpus),
                             "mode: function allows at most 6 cpus (Lambda's maximum), found cpus: \(text(cpus.value))")
            }
            if let replicas = p.replicas {
                reader.error(at: spot(located, replicas),
                             "mode: function has no replicas: environments scale with requests",
                             hint: "remove replicas, or cap environments with concurrency.reserved")
            }
            if let perReplica = p.perReplica, perReplica.value > 1 {
                reader.error(at: spot(located, perReplica),
                             "mode: function serves one request per environment, found concurrency.per_replica: \(perReplica.value)",
                             hint: "remove per_replica (it applies to service mode), or use mode: service")
            }
            if let health = p.health {
                reader.error(at: spot(located, health),
                             "mode: function has no health checks: health applies to service mode",
                             hint: "remove health, or use mode: service")
            }
            if let stopTimeout = p.stopTimeout {
                reader.error(at: spot(located, stopTimeout),
                             "mode: function has no stop timeout: an invocation is bounded by timeout",
                             hint: "remove stop_timeout (it applies to service and task mode)")
            }
        }
        if let volume = p.volume, p.state?.value != .stateful {
            reader.error(at: volume, "volume keeps a stateful workload's data, but the workload is not state: stateful",
                         hint: "add state: stateful, or remove volume")
        }
        if let located = p.mode, mode == .service, contract.value == .command {
            reader.error(at: spot(located, contract),
                         "mode: service keeps replicas running, but contract: command runs one process per event",
                         hint: "use mode: task or mode: function")
        }
        if let located = p.mode, mode == .task {
            for trigger in p.triggers?.value ?? [] {
                if case .http = trigger.value {
                    reader.error(at: spot(located, trigger), "mode: task runs to completion and cannot serve an http route",
                                 hint: "use mode: service or function, or trigger the task with a schedule, queue or watch")
                }
            }
        }
        if let handler = p.handler, contract.value != .lambda {
            reader.error(at: spot(handler, contract), "handler only applies to contract: lambda, found contract: \(contract.value.rawValue)")
        }
        if let port = p.port, contract.value != .http {
            reader.error(at: spot(port, contract), "port only applies to contract: http, found contract: \(contract.value.rawValue)")
        }
        if let probe = p.healthProbe, case .http = probe.value, contract.value != .http {
            reader.error(at: spot(probe, contract), "health.http needs contract: http, found contract: \(contract.value.rawValue)",
                         hint: "use health.command to probe from inside the container")
        }
        if let low = p.replicasMin, let high = p.replicasMax, low.value > high.value {
            reader.error(at: spot(low, high), "replicas.min (\(low.value)) is more than replicas.max (\(high.value))")
        }
        if let provisioned = p.provisioned, let reserved = p.reserved, provisioned.value > reserved.value {
            reader.error(at: spot(provisioned, reserved),
                         "concurrency.provisioned (\(provisioned.value)) is more than concurrency.reserved (\(reserved.value))")
        }
        let queueNames = queues.map(\.value.name)
        if let deadLetter = p.deadLetter, !queueNames.contains(deadLetter.value) {
            reportMissingQueue(deadLetter, among: queueNames)
        }
        for trigger in p.triggers?.value ?? [] {
            if case let .queue(queueName, _) = trigger.value, !queueNames.contains(queueName) {
                reportMissingQueue(trigger.map { _ in queueName }, among: queueNames)
            }
        }

        guard let source, reader.diagnostics.count == errorsBefore else { return nil }
        var replicas: Replicas?
        if p.replicas != nil {
            let low = p.replicasMin?.value ?? Swift.min(1, p.replicasMax?.value ?? 1)
            replicas = Replicas(min: low, max: p.replicasMax?.value ?? Swift.max(low, 1))
        }
        var health: HealthCheck?
        if let probe = p.healthProbe {
            health = HealthCheck(probe: probe.value,
                                 interval: p.healthInterval?.value ?? .seconds(30),
                                 timeout: p.healthTimeout?.value ?? .seconds(5),
                                 retries: p.healthRetries?.value ?? 3,
                                 startPeriod: p.healthStartPeriod?.value ?? .seconds(0))
        }
        var traffic: TrafficHints?
        if p.traffic != nil {
            traffic = TrafficHints(rate: p.rate?.value, duration: p.duration?.value, pattern: p.pattern?.value,
                                   latencySLO: p.latencySLO?.value, streaming: p.streaming?.value ?? false)
        }
        return Workload(
            name: name, source: source, contract: contract.value, mode: mode,
            handler: p.handler?.value, command: p.command?.value, entrypoint: p.entrypoint?.value,
            env: p.env.map(\.value), port: p.port?.value,
            memory: p.memory?.value ?? Workload.defaultMemory, cpus: p.cpus?.value, timeout: p.timeout?.value,
            tmp: p.tmp?.value ?? Workload.defaultTmp,
            concurrency: Concurrency(reserved: p.reserved?.value, provisioned: p.provisioned?.value, perReplica: p.perReplica?.value),
            replicas: replicas, health: health, retries: p.retries?.value, maxEventAge: p.maxEventAge?.value,
            deadLetter: p.deadLetter?.value, state: p.state?.value ?? .stateless,
            stopTimeout: p.stopTimeout?.value, volume: p.volume?.value,
            triggers: p.triggers?.value.map(\.value) ?? [], traffic: traffic)
    }

    private func text(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// Two routes on one path (same path, overlapping methods) are an error at the second one.
    func checkRoutes(_ workloads: [(name: String, workload: PartialWorkload)]) {
        var seen: [String: [(methods: [String], name: String, at: Located<Trigger>)]] = [:]
        for (name, workload) in workloads {
            for trigger in workload.triggers?.value ?? [] {
                guard case let .http(route) = trigger.value else { continue }
                let key = Self.routeKey(route.path)
                if let earlier = seen[key]?.first(where: { Self.overlap($0.methods, route.methods) }) {
                    let methods = route.methods.isEmpty ? "" : route.methods.joined(separator: ",") + " "
                    let owner = earlier.name == name ? "this workload" : "workload \(earlier.name)"
                    reader.error(at: trigger,
                                 "route \(methods)\(route.path) is already served by \(owner) (\(earlier.at.keyPath) at line \(earlier.at.line))",
                                 hint: "give each route its own path, or split the methods between them")
                } else {
                    seen[key, default: []].append((route.methods, name, trigger))
                }
            }
        }
    }

    /// `/items/{id}/` and `/items/{key}` are the same route.
    static func routeKey(_ path: String) -> String {
        var segments = path.split(separator: "/", omittingEmptySubsequences: true).map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? (segment.hasSuffix("+}") ? "{+}" : "{}") : String(segment)
        }
        if segments.isEmpty { segments = [] }
        return "/" + segments.joined(separator: "/")
    }

    static func overlap(_ a: [String], _ b: [String]) -> Bool {
        a.isEmpty || b.isEmpty || a.contains { b.contains($0) } || (a.contains("GET") && b.contains("HEAD")) || (a.contains("HEAD") && b.contains("GET"))
    }
}
