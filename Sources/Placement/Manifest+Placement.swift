import Manifest

extension PlacementInput {
    /// What placement needs from a validated manifest workload.
    ///
    /// - A workload without `timeout:` gets Lambda's 3 s default (function
    ///   mode's default; services and tasks have none, so no hard rule fires).
    /// - `traffic.streaming: true` is the long-lived-connections flag.
    /// - Schedule triggers give the rate when `traffic.rate` is not set.
    /// - Without `replicas:` a service runs one replica; without
    ///   `concurrency.per_replica` a replica serves one request at a time.
    public init(workload: Workload) {
        let hints = workload.traffic
        let requested: RequestedMode = switch workload.mode {
        case .auto: .auto
        case .function: .function
        case .service: .service
        case .task: .task
        }
        let contract: Contract = switch workload.contract {
        case .lambda: .lambda
        case .http: .http
        case .command: .command
        }
        let pattern: Traffic.Pattern? = hints?.pattern.map {
            switch $0 {
            case .steady: .steady
            case .bursty: .bursty
            case .sparse: .sparse
            }
        }
        let replicasMin = workload.replicas?.min ?? 1
        let replicasMax = workload.replicas?.max ?? max(replicasMin, 1)
        let mebibyte: Int64 = 1_048_576
        let bytes = max(workload.memory.bytes, 0)
        let memoryMiB = bytes / mebibyte + (bytes % mebibyte == 0 ? 0 : 1)
        self.init(
            name: workload.name,
            mode: requested,
            contract: contract,
            memoryMiB: Int(clamping: memoryMiB),
            cpus: workload.cpus,
            timeoutSeconds: (workload.timeout ?? Workload.defaultFunctionTimeout).seconds,
            state: workload.state == .stateful ? .stateful : .stateless,
            longLivedConnections: hints?.streaming ?? false,
            concurrency: Concurrency(
                reserved: workload.concurrency.reserved,
                provisioned: workload.concurrency.provisioned ?? 0,
                perReplica: workload.concurrency.perReplica ?? 1),
            replicas: Replicas(min: replicasMin, max: replicasMax),
            traffic: TrafficHints(
                ratePerSecond: hints?.rate?.perSecond,
                meanDurationSeconds: hints?.duration?.seconds,
                pattern: pattern,
                latencySLOSeconds: hints?.latencySLO?.seconds),
            scheduledRunsPerSecond: workload.triggers.reduce(0) { total, trigger in
                if case let .schedule(schedule) = trigger { total + schedule.averageRunsPerDay / 86_400 } else { total }
            },
            servesHTTP: workload.triggers.contains { if case .http = $0 { true } else { false } }
        )
    }
}

extension Prices {
    /// The default prices with the manifest's `pricing:` overrides applied.
    public init(pricing: Pricing) {
        var prices = Prices.awsUSEast1
        if let perRequest = pricing.lambdaPerRequest { prices.functionPerRequest = perRequest }
        if let perGBSecond = pricing.lambdaPerGBSecond { prices.functionPerGBSecond = perGBSecond }
        if let perVCPUHour = pricing.fargatePerVCPUHour { prices.servicePerVCPUHour = perVCPUHour }
        if let perGBHour = pricing.fargatePerGBHour { prices.servicePerGBHour = perGBHour }
        self = prices
    }
}

extension PlacementModel {
    /// Places every workload of a manifest, in file order.
    public func decide(
        _ manifest: Manifest, machine: MachineCapacity, previous: [String: Decision] = [:]
    ) -> [Decision] {
        let prices = Prices(pricing: manifest.pricing)
        return manifest.workloads.map { workload in
            decide(PlacementInput(workload: workload), prices: prices, machine: machine,
                   previous: previous[workload.name])
        }
    }
}
