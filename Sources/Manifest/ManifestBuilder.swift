import Yams

/// A workload's fields as written (in `defaults:` or in the workload), before defaults
/// are applied and cross-field rules are checked.
struct PartialWorkload {
    var image: Located<String>?
    var build: Located<(context: String, dockerfile: String?)>?
    var contract: Located<Contract>?
    var mode: Located<Mode>?
    var handler: Located<String>?
    var command: Located<[String]>?
    var entrypoint: Located<[String]>?
    var env: [Located<EnvironmentVariable>] = []
    var port: Located<Int>?
    var memory: Located<ByteSize>?
    var cpus: Located<Double>?
    var timeout: Located<Duration>?
    var tmp: Located<ByteSize>?
    var reserved: Located<Int>?
    var provisioned: Located<Int>?
    var perReplica: Located<Int>?
    var replicasMin: Located<Int>?
    var replicasMax: Located<Int>?
    /// Where `replicas:` was written, when it was.
    var replicas: Located<Void>?
    var healthProbe: Located<HealthCheck.Probe>?
    var healthInterval: Located<Duration>?
    var healthTimeout: Located<Duration>?
    var healthRetries: Located<Int>?
    var healthStartPeriod: Located<Duration>?
    /// Where `health:` was written, when it was.
    var health: Located<Void>?
    var retries: Located<Int>?
    var maxEventAge: Located<Duration>?
    var deadLetter: Located<String>?
    var state: Located<StateKind>?
    var stopTimeout: Located<Duration>?
    var volume: Located<String>?
    var triggers: Located<[Located<Trigger>]>?
    var rate: Located<Rate>?
    var duration: Located<Duration>?
    var pattern: Located<TrafficPattern>?
    var latencySLO: Located<Duration>?
    var streaming: Located<Bool>?
    /// Where `traffic:` was written, when it was.
    var traffic: Located<Void>?
    /// Keys written, even when their value was refused (so "missing" is not reported for them).
    var written: Set<String> = []

    /// `self` over `defaults`: values written here win; `env` and the nested
    /// mappings (`concurrency`, `replicas`, `health`, `traffic`) merge key by key.
    func applying(defaults: PartialWorkload) -> PartialWorkload {
        var merged = self
        merged.written.formUnion(defaults.written)
        if image == nil && build == nil {
            merged.image = defaults.image
            merged.build = defaults.build
        }
        merged.contract = contract ?? defaults.contract
        merged.mode = mode ?? defaults.mode
        merged.handler = handler ?? defaults.handler
        merged.command = command ?? defaults.command
        merged.entrypoint = entrypoint ?? defaults.entrypoint
        merged.env = defaults.env.filter { d in !env.contains { $0.value.name == d.value.name } } + env
        merged.port = port ?? defaults.port
        merged.memory = memory ?? defaults.memory
        merged.cpus = cpus ?? defaults.cpus
        merged.timeout = timeout ?? defaults.timeout
        merged.tmp = tmp ?? defaults.tmp
        merged.reserved = reserved ?? defaults.reserved
        merged.provisioned = provisioned ?? defaults.provisioned
        merged.perReplica = perReplica ?? defaults.perReplica
        merged.replicasMin = replicasMin ?? defaults.replicasMin
        merged.replicasMax = replicasMax ?? defaults.replicasMax
        merged.replicas = replicas ?? defaults.replicas
        merged.healthProbe = healthProbe ?? defaults.healthProbe
        merged.healthInterval = healthInterval ?? defaults.healthInterval
        merged.healthTimeout = healthTimeout ?? defaults.healthTimeout
        merged.healthRetries = healthRetries ?? defaults.healthRetries
        merged.healthStartPeriod = healthStartPeriod ?? defaults.healthStartPeriod
        merged.health = health ?? defaults.health
        merged.retries = retries ?? defaults.retries
        merged.maxEventAge = maxEventAge ?? defaults.maxEventAge
        merged.deadLetter = deadLetter ?? defaults.deadLetter
        merged.state = state ?? defaults.state
        merged.stopTimeout = stopTimeout ?? defaults.stopTimeout
        merged.volume = volume ?? defaults.volume
        merged.triggers = triggers ?? defaults.triggers
        merged.rate = rate ?? defaults.rate
        merged.duration = duration ?? defaults.duration
        merged.pattern = pattern ?? defaults.pattern
        merged.latencySLO = latencySLO ?? defaults.latencySLO
        merged.streaming = streaming ?? defaults.streaming
        merged.traffic = traffic ?? defaults.traffic
        return merged
    }
}

/// Turns the composed YAML tree into a `Manifest`, reporting every problem to the reader.
struct ManifestBuilder {
    let reader: Reader

    private func keys(_ place: String) -> [String] { ManifestParser.knownKeys[place] ?? [] }

    func build(_ root: Node) -> Manifest? {
        guard case .mapping = root else {
            reader.error(at: root, "", "expected a mapping with `version: 1` and `workloads:`, found \(Reader.describe(root))")
            return nil
        }
        guard let fields = reader.fields(of: root, "", allowed: keys("manifest") + ["*"]) else { return nil }
        var version: Int?
        var defaults = PartialWorkload()
        var pricing = Pricing()
        var queues: [Located<Queue>] = []
        var workloadFields: [Field]?
        var workloadsNode: Node?
        for field in fields {
            switch field.key {
            case "version":
                if let text = reader.scalarText(field.value, field.keyPath, what: "1"), let number = Int(text) {
                    if number == 1 { version = 1 } else {
                        reader.error(at: field.value, field.keyPath, "unsupported version \(number): this tandem reads version 1")
                    }
                } else if case .scalar = field.value, !Reader.isNull(field.value) {
                    reader.error(at: field.value, field.keyPath, "expected 1, found \(Reader.describe(field.value))")
                }
            case "defaults":
                if let items = reader.fields(of: field.value, field.keyPath, allowed: keys("workload"), allowsNull: true) {
                    defaults = partialWorkload(items)
                }
            case "pricing":
                pricing = parsePricing(field)
            case "queues":
                queues = parseQueues(field)
            case "workloads":
                workloadsNode = field.value
                workloadFields = reader.fields(of: field.value, field.keyPath, allowed: ["*"], allowsNull: true,
                                               what: "a mapping from workload names to workloads")
            default:
                // Top-level keys starting with `x-` hold anchors for reuse (as in Compose files).
                if !field.key.hasPrefix("x-") {
                    reader.error(at: field.keyNode, field.keyPath, "unknown key \"\(field.key)\"",
                                 hint: Reader.suggestion(for: field.key, among: keys("manifest")))
                }
            }
        }
        if version == nil && !fields.contains(where: { $0.key == "version" }) {
            reader.error(at: root, "", "missing `version: 1`")
        }
        if workloadsNode == nil {
            reader.error(at: root, "", "missing `workloads:`", hint: "declare at least one workload under `workloads:`")
        } else if let workloadFields, workloadFields.isEmpty {
            reader.error(at: workloadsNode, "workloads", "no workloads: declare at least one")
        }
        var workloads: [(Workload, PartialWorkload)] = []
        for field in workloadFields ?? [] {
            if !ManifestParser.isDNSLabel(field.key) {
                reader.error(at: field.keyNode, field.keyPath, "workload name \"\(field.key)\" is not a DNS label",
                             hint: "use lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters")
            }
            guard let items = reader.fields(of: field.value, field.keyPath, allowed: keys("workload")) else { continue }
            let merged = partialWorkload(items).applying(defaults: defaults)
            if let workload = resolve(merged, name: field.key, at: field, queues: queues) {
                workloads.append((workload, merged))
            }
        }
        checkRoutes(workloads.map { ($0.0.name, $0.1) })
        guard let version else { return nil }
        return Manifest(version: version, pricing: pricing, queues: queues.map(\.value), workloads: workloads.map(\.0))
    }

    // MARK: Workload fields

    func partialWorkload(_ fields: [Field]) -> PartialWorkload {
        var p = PartialWorkload()
        for field in fields {
            p.written.insert(field.key)
            switch field.key {
            case "image": p.image = reader.string(field, what: "an image reference such as thumb:latest")
            case "build": p.build = parseBuild(field)
            case "contract": p.contract = reader.choice(field, Contract.self)
            case "mode": p.mode = reader.choice(field, Mode.self)
            case "handler": p.handler = reader.string(field)
            case "command": p.command = reader.words(field)
            case "entrypoint": p.entrypoint = reader.words(field)
            case "env": p.env = parseEnv(field)
            case "port": p.port = reader.int(field, in: 1...65535, what: "a port number")
            case "memory": p.memory = reader.size(field)
            case "cpus":
                if let cpus = reader.double(field, what: "a number of CPUs such as 0.5") {
                    if cpus.value > 0 && cpus.value <= 16 { p.cpus = cpus } else {
                        reader.error(at: cpus, "must be more than 0 and at most 16, found \(text(cpus.value))")
                    }
                }
            case "timeout":
                if let timeout = reader.duration(field) {
                    if timeout.value.milliseconds > 0 { p.timeout = timeout } else { reader.error(at: timeout, "must be longer than 0s") }
                }
            case "tmp":
                if let tmp = reader.size(field) {
                    if tmp.value <= .gibibytes(10) { p.tmp = tmp } else {
                        reader.error(at: tmp, "/tmp can be at most 10Gi, found \(tmp.value)")
                    }
                }
            case "concurrency": parseConcurrency(field, into: &p)
            case "replicas": parseReplicas(field, into: &p)
            case "health": parseHealth(field, into: &p)
            case "retries": p.retries = reader.int(field, in: 0...10)
            case "max_event_age":
                if let age = reader.duration(field) {
                    if age.value >= .seconds(60) && age.value <= .hours(6) { p.maxEventAge = age } else {
                        reader.error(at: age, "must be 60s…6h (Lambda's range), found \(age.value)")
                    }
                }
            case "dead_letter": p.deadLetter = reader.string(field, what: "a queue name")
            case "state": p.state = reader.choice(field, StateKind.self)
            case "stop_timeout":
                if let timeout = reader.duration(field) {
                    if timeout.value <= .seconds(120) { p.stopTimeout = timeout } else {
                        reader.error(at: timeout, "can be at most 120s (ECS's limit), found \(timeout.value)")
                    }
                }
            case "volume":
                if let path = reader.string(field) {
                    if path.value.hasPrefix("/"), path.value != "/", !path.value.split(separator: "/").contains("..") {
                        p.volume = path
                    } else {
                        reader.error(at: path, "expected an absolute path inside the container such as /data, found \"\(path.value)\"")
                    }
                }
            case "triggers": p.triggers = parseTriggers(field)
            case "traffic": parseTraffic(field, into: &p)
            default: break
            }
        }
        return p
    }

    private func text(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    func parseBuild(_ field: Field) -> Located<(context: String, dockerfile: String?)>? {
        if case .mapping = field.value {
            guard let items = reader.fields(of: field.value, field.keyPath, allowed: keys("build")) else { return nil }
            var context: String?
            var dockerfile: String?
            for item in items {
                switch item.key {
                case "context": context = reader.string(item, what: "a folder")?.value
                case "dockerfile": dockerfile = reader.string(item, what: "a file name")?.value
                default: break
                }
            }
            guard let context else {
                if !items.contains(where: { $0.key == "context" }) {
                    reader.error(at: field.value, field.keyPath, "missing `context:` (the folder to build)")
                }
                return nil
            }
            return reader.located((context, dockerfile), field.value, field.keyPath)
        }
        guard let folder = reader.string(field, what: "a folder with a Dockerfile, such as images/thumb") else { return nil }
        return folder.map { ($0, nil) }
    }

    func parseEnv(_ field: Field) -> [Located<EnvironmentVariable>] {
        guard let items = reader.fields(of: field.value, field.keyPath, allowed: ["*"], allowsNull: true,
                                        what: "a mapping of variable names to values") else { return [] }
        var result: [Located<EnvironmentVariable>] = []
        for item in items {
            let name = item.key
            let validName = name.unicodeScalars.first.map { $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) } == true
                && name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
            if !validName {
                reader.error(at: item.keyNode, item.keyPath, "\"\(name)\" is not a valid environment variable name",
                             hint: "use letters, digits and _, not starting with a digit")
                continue
            }
            guard let value = reader.scalarText(item.value, item.keyPath, what: "a string (quote it to keep it as written)") else { continue }
            result.append(reader.located(EnvironmentVariable(name: name, value: value), item.value, item.keyPath))
        }
        return result
    }

    func parseConcurrency(_ field: Field, into p: inout PartialWorkload) {
        guard let items = reader.fields(of: field.value, field.keyPath, allowed: keys("concurrency")) else { return }
        for item in items {
            switch item.key {
            case "reserved": p.reserved = reader.int(item, in: 0...10_000)
            case "provisioned": p.provisioned = reader.int(item, in: 0...10_000)
            case "per_replica": p.perReplica = reader.int(item, in: 1...1000)
            default: break
            }
        }
    }

    func parseReplicas(_ field: Field, into p: inout PartialWorkload) {
        guard let items = reader.fields(of: field.value, field.keyPath, allowed: keys("replicas")) else { return }
        p.replicas = reader.located((), field.keyNode, field.keyPath)
        for item in items {
            switch item.key {
            case "min": p.replicasMin = reader.int(item, in: 0...1000)
            case "max": p.replicasMax = reader.int(item, in: 1...1000)
            default: break
            }
        }
    }

    func parseHealth(_ field: Field, into p: inout PartialWorkload) {
        guard let items = reader.fields(of: field.value, field.keyPath, allowed: keys("health")) else { return }
        p.health = reader.located((), field.keyNode, field.keyPath)
        let probes = items.filter { $0.key == "http" || $0.key == "command" }
        if probes.count > 1 {
            reader.error(at: probes[1].keyNode, probes[1].keyPath, "give `http:` or `command:`, not both")
        }
        if probes.isEmpty {
            reader.error(at: field.value, field.keyPath, "missing the probe: `http: /healthz` or `command: [...]`")
        }
        for item in items {
            switch item.key {
            case "http":
                if let path = reader.string(item, what: "a path such as /healthz") {
                    if path.value.hasPrefix("/") { p.healthProbe = path.map { .http(path: $0) } } else {
                        reader.error(at: path, "a health-check path starts with /, found \"\(path.value)\"", hint: "write /\(path.value)")
                    }
                }
            case "command":
                if let words = reader.words(item) { p.healthProbe = words.map { .command($0) } }
            case "interval": p.healthInterval = positive(reader.duration(item))
            case "timeout": p.healthTimeout = positive(reader.duration(item))
            case "retries": p.healthRetries = reader.int(item, in: 1...100)
            case "start_period": p.healthStartPeriod = reader.duration(item)
            default: break
            }
        }
    }

    private func positive(_ duration: Located<Duration>?) -> Located<Duration>? {
        guard let duration else { return nil }
        if duration.value.milliseconds > 0 { return duration }
        reader.error(at: duration, "must be longer than 0s")
        return nil
    }

    func parseTraffic(_ field: Field, into p: inout PartialWorkload) {
        guard let items = reader.fields(of: field.value, field.keyPath, allowed: keys("traffic")) else { return }
        p.traffic = reader.located((), field.keyNode, field.keyPath)
        for item in items {
            switch item.key {
            case "rate": p.rate = reader.rate(item)
            case "duration": p.duration = positive(reader.duration(item))
            case "pattern": p.pattern = reader.choice(item, TrafficPattern.self)
            case "latency_slo": p.latencySLO = positive(reader.duration(item))
            case "streaming": p.streaming = reader.bool(item)
            default: break
            }
        }
    }

    func parseTriggers(_ field: Field) -> Located<[Located<Trigger>]>? {
        guard reader.visit(field.value) else { return nil }
        if Reader.isNull(field.value) { return reader.located([], field.value, field.keyPath) }
        guard case let .sequence(sequence) = field.value else {
            reader.error(at: field.value, field.keyPath, "expected a list of triggers, found \(Reader.describe(field.value))",
                         hint: "start each trigger with \"- \", as in - schedule: rate(5 minutes)")
            return nil
        }
        var triggers: [Located<Trigger>] = []
        for (index, item) in sequence.enumerated() {
            let path = "\(field.keyPath)[\(index)]"
            guard let kinds = reader.fields(of: item, path, allowed: keys("trigger"),
                                            what: "a trigger (http, schedule, watch or queue)") else { continue }
            guard kinds.count == 1, let kind = kinds.first else {
                if kinds.isEmpty {
                    reader.error(at: item, path, "expected a trigger (http, schedule, watch or queue), found an empty mapping")
                } else {
                    reader.error(at: kinds[1].keyNode, kinds[1].keyPath, "one trigger per list item: start \"\(kinds[1].key)\" with its own \"- \"")
                }
                continue
            }
            if let trigger = parseTrigger(kind) { triggers.append(trigger) }
        }
        return reader.located(triggers, field.value, field.keyPath)
    }

    func parseTrigger(_ field: Field) -> Located<Trigger>? {
        switch field.key {
        case "schedule":
            return reader.schedule(field)?.map { .schedule($0) }
        case "http":
            guard let items = reader.fields(of: field.value, field.keyPath, allowed: keys("httpTrigger"),
                                            what: "a route such as {path: /api, methods: [GET]}") else { return nil }
            var path: Located<String>?
            var methods: [String] = []
            var ok = true
            for item in items {
                switch item.key {
                case "path":
                    path = reader.string(item, what: "a path such as /api")
                    if let value = path?.value, !value.hasPrefix("/") {
                        reader.error(at: path!, "a route path starts with /, found \"\(value)\"", hint: "write /\(value)")
                        ok = false
                    }
                case "methods":
                    let listed: [(String, Node, String)]
                    switch item.value {
                    case let .sequence(sequence):
                        listed = sequence.enumerated().compactMap { index, node in
                            reader.scalarText(node, "\(item.keyPath)[\(index)]", what: "an HTTP method").map { ($0, node, "\(item.keyPath)[\(index)]") }
                        }
                    default:
                        listed = reader.scalarText(item.value, item.keyPath, what: "a list of HTTP methods").map { [($0, item.value, item.keyPath)] } ?? []
                    }
                    for (method, node, path) in listed {
                        let upper = method.uppercased()
                        if ManifestParser.httpMethods.contains(upper) {
                            if !methods.contains(upper) { methods.append(upper) }
                        } else {
                            reader.error(at: node, path, "unknown HTTP method \"\(method)\"",
                                         hint: "methods are " + ManifestParser.httpMethods.joined(separator: ", "))
                            ok = false
                        }
                    }
                default: break
                }
            }
            guard let path else {
                if !items.contains(where: { $0.key == "path" }) {
                    reader.error(at: field.value, field.keyPath, "missing `path:`")
                }
                return nil
            }
            if methods.contains("ANY") { methods = [] }
            return ok ? path.map { .http(HTTPRoute(path: $0, methods: methods)) } : nil
        case "watch":
            guard let items = reader.fields(of: field.value, field.keyPath, allowed: keys("watchTrigger"),
                                            what: "a folder to watch such as {path: ./inbox, pattern: \"*.jpg\"}") else { return nil }
            var path: Located<String>?
            var pattern = "*"
            for item in items {
                switch item.key {
                case "path": path = reader.string(item, what: "a folder")
                case "pattern": pattern = reader.string(item, what: "a file-name pattern such as *.jpg")?.value ?? pattern
                default: break
                }
            }
            guard let path else {
                if !items.contains(where: { $0.key == "path" }) {
                    reader.error(at: field.value, field.keyPath, "missing `path:` (the folder to watch)")
                }
                return nil
            }
            return path.map { .watch(path: $0, pattern: pattern) }
        case "queue":
            guard let items = reader.fields(of: field.value, field.keyPath, allowed: keys("queueTrigger"),
                                            what: "a queue such as {name: orders, batch_size: 10}") else { return nil }
            var name: Located<String>?
            var batchSize = 10
            for item in items {
                switch item.key {
                case "name": name = reader.string(item, what: "a queue name")
                case "batch_size": batchSize = reader.int(item, in: 1...10_000)?.value ?? batchSize
                default: break
                }
            }
            guard let name else {
                if !items.contains(where: { $0.key == "name" }) {
                    reader.error(at: field.value, field.keyPath, "missing `name:` (a queue declared under `queues:`)")
                }
                return nil
            }
            return name.map { .queue(name: $0, batchSize: batchSize) }
        default:
            return nil
        }
    }

    // MARK: Top-level sections

    func parsePricing(_ field: Field) -> Pricing {
        var pricing = Pricing()
        guard let items = reader.fields(of: field.value, field.keyPath, allowed: keys("pricing"), allowsNull: true) else { return pricing }
        for item in items {
            guard let price = reader.double(item, what: "a price in US dollars such as 0.0000166667") else { continue }
            guard price.value >= 0 else {
                reader.error(at: price, "a price cannot be negative, found \(price.value)")
                continue
            }
            switch item.key {
            case "lambda_per_request": pricing.lambdaPerRequest = price.value
            case "lambda_per_gb_second": pricing.lambdaPerGBSecond = price.value
            case "fargate_per_vcpu_hour": pricing.fargatePerVCPUHour = price.value
            case "fargate_per_gb_hour": pricing.fargatePerGBHour = price.value
            default: break
            }
        }
        return pricing
    }

    func parseQueues(_ field: Field) -> [Located<Queue>] {
        guard let entries = reader.fields(of: field.value, field.keyPath, allowed: ["*"], allowsNull: true,
                                          what: "a mapping from queue names to settings") else { return [] }
        var queues: [Located<Queue>] = []
        for entry in entries {
            if !ManifestParser.isDNSLabel(entry.key) {
                reader.error(at: entry.keyNode, entry.keyPath, "queue name \"\(entry.key)\" is not a DNS label",
                             hint: "use lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters")
            }
            var queue = Queue(name: entry.key)
            guard let items = reader.fields(of: entry.value, entry.keyPath, allowed: keys("queue"), allowsNull: true) else { continue }
            var deadLetter: Located<String>?
            for item in items {
                switch item.key {
                case "visibility_timeout":
                    if let timeout = reader.duration(item) {
                        if timeout.value <= .hours(12) { queue.visibilityTimeout = timeout.value } else {
                            reader.error(at: timeout, "can be at most 12h (SQS's limit), found \(timeout.value)")
                        }
                    }
                case "max_receive_count": queue.maxReceiveCount = reader.int(item, in: 1...1000)?.value
                case "dead_letter":
                    deadLetter = reader.string(item, what: "a queue name")
                    queue.deadLetter = deadLetter?.value
                default: break
                }
            }
            if queue.deadLetter != nil && queue.maxReceiveCount == nil { queue.maxReceiveCount = 3 }
            queues.append(reader.located(queue, entry.keyNode, entry.keyPath))
            if let deadLetter {
                if deadLetter.value == entry.key {
                    reader.error(at: deadLetter, "a queue cannot be its own dead-letter queue")
                } else if !entries.contains(where: { $0.key == deadLetter.value }) {
                    reportMissingQueue(deadLetter, among: entries.map(\.key))
                }
            }
        }
        return queues
    }

    func reportMissingQueue(_ name: Located<String>, among names: [String]) {
        let hint = names.isEmpty
            ? "declare it under `queues:`, as in queues: {\(name.value): {}}"
            : Reader.suggestion(for: name.value, among: names).flatMap { $0.hasPrefix("did") ? $0 : nil }
                ?? "declare it under `queues:`; declared: " + names.joined(separator: ", ")
        reader.error(at: name, "no queue named \"\(name.value)\" under `queues:`", hint: hint)
    }
}
