/// The placement function and its parameters.
///
/// ``decide(_:traffic:prices:machine:previous:)`` maps a workload, its
/// traffic, the prices and the machine to a ``Decision``. It is pure and
/// total: any input, however odd, gives a decision.
///
/// The decision, in order:
/// 1. Hard rules. A timeout over 15 minutes allows only task or service;
///    a stateful workload and one with long-lived connections (streaming,
///    websockets) only service. Task mode needs a contract that runs to
///    completion (`command`) and no http route; a `command` workload is not
///    placed in service mode unless a hard rule leaves nothing else.
/// 2. An explicit `mode:` wins when the hard rules allow it (within function
///    mode, placement still picks on demand or provisioned). An explicit mode
///    a hard rule forbids is a manifest error: the decision follows the rule
///    and carries a ``Violation``.
/// 3. Latency. With a `latency_slo` (a p99 target), an option meets it when its
///    estimated p99 is under it: warm service replicas and provisioned
///    environments take the mean duration; on-demand functions add the cold
///    start when more than 1% of requests meet one (see ``ColdStartModel``);
///    tasks always start cold. Options that miss the SLO are dropped (unless
///    all do, which the reasons say).
/// 4. Cost. The cheapest remaining option wins (see ``CostModel``), ties going
///    to function, then provisioned, service, task.
/// 5. Stability. Given the previous decision, its option is kept while it
///    still meets the SLO and costs at most `1 + hysteresisBand` times the
///    cheapest; and the cold-start risk must cross 1% by a factor of
///    ``sloRiskMargin`` before the SLO verdict on function mode changes. Every
///    cost grows no faster than the rate, so a change of rate by less than
///    half the band never flips a decision.
/// 6. Capacity. The chosen option's containers at the peak × memory limit
///    must fit the machine's memory; the reasons say when they do not (the
///    mode is not changed, so that the decision does not depend on the machine).
public struct PlacementModel: Sendable, Hashable {
    /// What a cold start adds to a request (container start measured here: ~250 ms).
    public var coldStartSeconds: Double
    /// How long an idle environment lives, when the workload does not say.
    public var idleReapSeconds: Double
    /// The mean request duration assumed when the manifest gives none.
    public var defaultMeanDurationSeconds: Double
    /// The utilisation service mode's autoscaler aims at.
    public var serviceUtilisationTarget: Double
    /// The utilisation autoscaled provisioned concurrency aims at.
    public var provisionedUtilisationTarget: Double
    /// Clump size of bursty traffic.
    public var burstFactor: Double
    /// Relative cost advantage another option needs before the decision switches.
    public var hysteresisBand: Double
    /// The quantile `latency_slo` applies to.
    public var sloQuantile: Double
    /// How far (as a factor) the cold-start risk must cross `1 − sloQuantile`
    /// before the SLO verdict on function mode changes from the previous decision's.
    public var sloRiskMargin: Double
    /// Hours in a month.
    public var hoursPerMonth: Double
    /// Function mode's hard timeout limit (Lambda's 15 minutes).
    public var functionTimeLimitSeconds: Double

    public init(
        coldStartSeconds: Double = 0.25,
        idleReapSeconds: Double = 300,
        defaultMeanDurationSeconds: Double = 0.1,
        serviceUtilisationTarget: Double = 0.7,
        provisionedUtilisationTarget: Double = 0.7,
        burstFactor: Double = 10,
        hysteresisBand: Double = 0.2,
        sloQuantile: Double = 0.99,
        sloRiskMargin: Double = 2,
        hoursPerMonth: Double = 730,
        functionTimeLimitSeconds: Double = 900
    ) {
        self.coldStartSeconds = coldStartSeconds
        self.idleReapSeconds = idleReapSeconds
        self.defaultMeanDurationSeconds = defaultMeanDurationSeconds
        self.serviceUtilisationTarget = serviceUtilisationTarget
        self.provisionedUtilisationTarget = provisionedUtilisationTarget
        self.burstFactor = burstFactor
        self.hysteresisBand = hysteresisBand
        self.sloQuantile = sloQuantile
        self.sloRiskMargin = sloRiskMargin
        self.hoursPerMonth = hoursPerMonth
        self.functionTimeLimitSeconds = functionTimeLimitSeconds
    }

    /// The hard rules `input` triggers, in the order they are checked.
    public func hardRules(for input: PlacementInput) -> [HardRule] {
        var rules: [HardRule] = []
        if !(input.timeoutSeconds <= functionTimeLimitSeconds) { rules.append(.timeoutOverFunctionLimit) }
        if input.state == .stateful { rules.append(.stateful) }
        if input.longLivedConnections { rules.append(.longLivedConnections) }
        return rules
    }

    /// The traffic to decide for when nothing was observed: the manifest's
    /// hints; without a rate, the runs its schedules make (or 0), and without a
    /// duration, ``defaultMeanDurationSeconds``.
    public func traffic(for input: PlacementInput) -> Traffic {
        var assumed: [String] = []
        let hints = input.traffic
        let scheduled = input.scheduledRunsPerSecond.isFinite ? max(input.scheduledRunsPerSecond, 0) : 0
        if hints.ratePerSecond == nil { assumed.append(scheduled > 0 ? "rate-from-schedule" : "rate") }
        if hints.meanDurationSeconds == nil { assumed.append("duration") }
        return Traffic(
            ratePerSecond: hints.ratePerSecond ?? scheduled,
            meanDurationSeconds: hints.meanDurationSeconds ?? defaultMeanDurationSeconds,
            pattern: hints.pattern ?? .steady,
            source: .hints,
            assumed: assumed
        )
    }

    /// Places one workload.
    ///
    /// - Parameters:
    ///   - input: the workload.
    ///   - traffic: observed traffic; `nil` uses the manifest's hints.
    ///   - prices: unit prices.
    ///   - machine: what the machine can hold.
    ///   - previous: the decision in force, for hysteresis.
    public func decide(
        _ input: PlacementInput,
        traffic observed: Traffic? = nil,
        prices: Prices = .awsUSEast1,
        machine: MachineCapacity,
        previous: Decision? = nil
    ) -> Decision {
        let traffic = sanitized(observed ?? traffic(for: input))
        let previousOption = previous?.option
        var figures = estimate(input, traffic: traffic, prices: prices, machine: machine,
                               previousOption: previousOption)

        // 1. Hard rules and the options they allow.
        let rules = hardRules(for: input)
        let allowedModes = rules.reduce(Set(Decision.Mode.allCases)) { $0.intersection($1.allowedModes) }
        var allowed = Decision.Option.allCases.filter { allowedModes.contains($0.mode) }
        if input.mode != .task && (input.contract != .command || input.servesHTTP) {
            // Only a command runs to completion, and a task cannot serve an http route.
            allowed.removeAll { $0 == .task }
        }
        if input.mode != .service && input.contract == .command && allowed.contains(where: { $0 != .service }) {
            // A command runs one process per event: no replicas to keep running.
            allowed.removeAll { $0 == .service }
        }
        if input.concurrency.provisioned > 0 {
            // Provisioned concurrency is declared: function mode means provisioned.
            allowed.removeAll { $0 == .function }
        }

        // 2. An explicit mode.
        var violation: Violation?
        var explicit = false
        if let requested = Decision.Mode(rawValue: input.mode.rawValue) {
            if allowedModes.contains(requested) {
                allowed.removeAll { $0.mode != requested }
                explicit = true
            } else if let rule = rules.first(where: { !$0.allowedModes.contains(requested) }) {
                violation = Violation(
                    requested: input.mode, rule: rule,
                    message: "mode: \(requested.rawValue) breaks a hard rule (\(ruleText(rule, input)))")
            }
        }
        if allowed.isEmpty { allowed = [.service] }  // cannot happen; service is always allowed

        // 3. Latency, 4. cost, 5. stability.
        let meeting = allowed.filter { figures.meetsSLO($0) }
        let eligible = meeting.isEmpty ? allowed : meeting
        let cheapest = eligible.min { lhs, rhs in
            let (l, r) = (figures.monthlyCost(lhs), figures.monthlyCost(rhs))
            return l != r ? l < r : lhs < rhs
        } ?? .service
        var chosen = cheapest
        var kept = false
        if let previousOption, previousOption != cheapest, eligible.contains(previousOption),
           figures.monthlyCost(previousOption) <= figures.monthlyCost(cheapest) * (1 + hysteresisBand)
        {
            chosen = previousOption
            kept = true
        }

        // 6. Capacity.
        figures.capacity = capacity(for: chosen, input: input, figures: figures, machine: machine)

        let reasons = self.reasons(
            input: input, figures: figures, chosen: chosen, cheapest: cheapest, kept: kept,
            allowed: allowed, noneMeetsSLO: meeting.isEmpty, rules: rules, explicit: explicit,
            violation: violation)
        return Decision(
            workload: input.name, mode: chosen.mode, option: chosen, reasons: reasons,
            figures: figures, hardRule: rules.first, violation: violation)
    }

    // MARK: - Figures

    func sanitized(_ traffic: Traffic) -> Traffic {
        var traffic = traffic
        let rate = traffic.ratePerSecond
        traffic.ratePerSecond = rate.isFinite ? min(max(rate, 0), 1e9) : (rate > 0 ? 1e9 : 0)
        let duration = traffic.meanDurationSeconds
        traffic.meanDurationSeconds = duration.isFinite && duration > 0 ? min(duration, 1e7) : 0.001
        return traffic
    }

    /// Every figure for every option; capacity is filled in for the chosen one later.
    func estimate(
        _ input: PlacementInput, traffic: Traffic, prices: Prices, machine: MachineCapacity,
        previousOption: Decision.Option?
    ) -> Figures {
        let rate = traffic.ratePerSecond
        let duration = traffic.meanDurationSeconds
        let monthSeconds = CostModel.secondsPerMonth(hours: hoursPerMonth)
        let requests = rate * monthSeconds
        let memoryGB = Double(max(input.memoryMiB, 1)) / 1024
        let billed = CostModel.billedDuration(seconds: duration)

        // Function, on demand.
        let function = CostModel.function(
            requests: requests, billedDurationSeconds: billed, memoryGB: memoryGB, prices: prices)
        let peak = ColdStartModel.peakConcurrency(
            ratePerSecond: rate, durationSeconds: duration, pattern: traffic.pattern, burstFactor: burstFactor)

        // Function, provisioned.
        var environments = rate * duration / provisionedUtilisationTarget
        if traffic.pattern == .bursty { environments = max(environments, max(burstFactor, 1)) }
        environments = max(environments, Double(max(input.concurrency.provisioned, 1)))
        let provisioned = CostModel.provisioned(
            environments: environments, requests: requests, billedDurationSeconds: billed,
            memoryGB: memoryGB, monthSeconds: monthSeconds, prices: prices)

        // Service.
        let size = FargateSize(memoryMiB: input.memoryMiB, cpus: input.cpus)
        let replicaHour = CostModel.replicaHourCost(size: size, prices: prices)
        let perReplica = max(input.concurrency.perReplica, 1)
        let forLoad = CostModel.replicasForLoad(
            ratePerSecond: rate, durationSeconds: duration, perReplica: perReplica,
            utilisationTarget: serviceUtilisationTarget)
        let minimum = Double(max(input.replicas.min, 1))
        let billedReplicas = max(minimum, forLoad)
        let serviceCost = CostModel.service(replicas: billedReplicas, hours: hoursPerMonth, replicaHourCost: replicaHour)

        // Task.
        let task = CostModel.task(runs: requests, durationSeconds: duration, replicaHourCost: replicaHour)

        let breakEven = CostModel.breakEvenRate(
            functionCostPerRequest: prices.functionPerRequest + billed * memoryGB * prices.functionPerGBSecond,
            replicaCostPerSecond: replicaHour / 3600, minimumReplicas: minimum,
            durationSeconds: duration, perReplica: perReplica, utilisationTarget: serviceUtilisationTarget)

        // Latency.
        let reap = input.idleReapSeconds.map { $0.isFinite ? max($0, 0) : 0 } ?? idleReapSeconds
        let probability = ColdStartModel.probability(
            ratePerSecond: rate, idleReapSeconds: reap, pattern: traffic.pattern, burstFactor: burstFactor)
        let tail = 1 - sloQuantile
        let threshold: Double = switch previousOption {
        case nil: tail
        case .function?: tail * sloRiskMargin
        case _?: tail / sloRiskMargin
        }
        let added = probability > tail ? coldStartSeconds : 0
        let slo = input.traffic.latencySLOSeconds
        let warmMeets = slo.map { duration <= $0 } ?? true
        let coldMeets = slo.map { duration + coldStartSeconds <= $0 } ?? true
        let functionMeets = warmMeets && (coldMeets || !(probability > threshold))

        return Figures(
            traffic: traffic,
            hoursPerMonth: hoursPerMonth,
            monthlyRequests: requests,
            function: .init(
                memoryGB: memoryGB, billedDurationSeconds: billed, requestCost: function.requestCost,
                gbSeconds: function.gbSeconds, computeCost: function.computeCost,
                monthlyCost: function.total, peakConcurrency: peak,
                reservedConcurrency: input.concurrency.reserved),
            provisioned: .init(
                environments: environments, environmentsAtPeak: Self.roundedUp(environments),
                provisionedGBSeconds: provisioned.provisionedGBSeconds, standingCost: provisioned.standingCost,
                requestCost: provisioned.requestCost, durationCost: provisioned.durationCost,
                monthlyCost: provisioned.total),
            service: .init(
                size: size, replicaHourCost: replicaHour, perReplica: perReplica,
                utilisationTarget: serviceUtilisationTarget, replicasForLoad: forLoad,
                replicasBilled: billedReplicas, replicasNeeded: Self.roundedUp(billedReplicas),
                replicasMin: input.replicas.min, replicasMax: input.replicas.max, monthlyCost: serviceCost),
            task: .init(
                possible: input.contract == .command && !input.servesHTTP, billedSecondsPerRun: task.billedSecondsPerRun,
                monthlyCost: task.total),
            breakEvenRatePerSecond: breakEven,
            latency: .init(
                idleReapSeconds: reap, coldStartSeconds: coldStartSeconds, burstFactor: burstFactor,
                coldStartProbability: probability, quantile: sloQuantile, riskThreshold: threshold,
                functionP99Seconds: duration + added, addedLatencyP99Seconds: added,
                meanAddedLatencySeconds: probability * coldStartSeconds, sloSeconds: slo,
                functionMeetsSLO: functionMeets, provisionedMeetsSLO: warmMeets,
                serviceMeetsSLO: warmMeets, taskMeetsSLO: coldMeets),
            capacity: .init(machineMemoryMiB: machine.memoryMiB, requiredMemoryMiB: 0, containersAtPeak: 0, fits: true),
            hysteresisBand: hysteresisBand)
    }

    func capacity(
        for option: Decision.Option, input: PlacementInput, figures: Figures, machine: MachineCapacity
    ) -> Figures.Capacity {
        let containers: Int
        switch option {
        case .function:
            var peak = max(Self.roundedUp(figures.function.peakConcurrency), 1)
            if let reserved = input.concurrency.reserved, reserved > 0 { peak = min(peak, reserved) }
            containers = peak
        case .provisioned:
            containers = figures.provisioned.environmentsAtPeak
        case .service:
            containers = figures.service.replicasNeeded
        case .task:
            containers = max(Self.roundedUp(figures.traffic.ratePerSecond * figures.traffic.meanDurationSeconds), 1)
        }
        let required = Double(containers) * Double(max(input.memoryMiB, 0))
        let requiredMiB = required < Double(Int.max / 2) ? Int(required) : Int.max / 2
        return Figures.Capacity(
            machineMemoryMiB: machine.memoryMiB, requiredMemoryMiB: requiredMiB,
            containersAtPeak: containers, fits: requiredMiB <= machine.memoryMiB)
    }

    /// `x` rounded up to a whole number, ignoring floating-point noise, and
    /// clamped so that any input converts.
    static func roundedUp(_ x: Double) -> Int {
        guard x.isFinite else { return x > 0 ? 1 << 40 : 0 }
        let up = (x - 1e-9).rounded(.up)
        return Int(min(max(up, 0), Double(1 << 40)))
    }
}
