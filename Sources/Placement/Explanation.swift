extension PlacementModel {
    /// The whole reasoning behind `decision`, as `tandem explain` prints it:
    /// hard rules, each cost formula with its numbers, the break-even rate,
    /// the cold-start model, the SLO check, the provisioned option, capacity
    /// and the hysteresis band.
    public func explanation(of decision: Decision, for input: PlacementInput, prices: Prices) -> String {
        let f = decision.figures
        let t = f.traffic
        var lines: [String] = []
        func line(_ text: String = "") { lines.append(text) }
        func item(_ text: String) { lines.append("  " + text) }

        let modeText = decision.option == .provisioned ? "function (provisioned concurrency)" : decision.mode.rawValue
        line("\(decision.workload): \(modeText)")
        for (index, reason) in decision.reasons.enumerated() {
            line((index == 0 ? "  because " : "  also: ") + reason.text)
        }

        // Hard rules.
        line()
        line("Hard rules")
        let over = !(input.timeoutSeconds <= functionTimeLimitSeconds)
        item("timeout \(Format.duration(input.timeoutSeconds)) "
             + (over ? "> " : "≤ ") + "\(Format.duration(functionTimeLimitSeconds)) function limit: "
             + (over ? "task or service" : "ok"))
        item("state: \(input.state.rawValue): " + (input.state == .stateful ? "service" : "ok"))
        item("long-lived connections (streaming, websockets): "
             + (input.longLivedConnections ? "yes: service" : "no: ok"))
        var requested = "mode: \(input.mode.rawValue)"
        if let violation = decision.violation {
            requested += ": manifest error, \(violation.message)"
        } else if input.mode != .auto {
            requested += ": explicit, wins"
        } else {
            requested += ": placement chooses"
        }
        item(requested)

        // Traffic.
        line()
        line("Traffic (\(t.source == .observed ? "observed" : "from the manifest's hints"))")
        item("rate \(Format.rate(t.ratePerSecond)) req/s"
             + (t.assumed.contains("rate") ? " (assumed: no rate given)" : "")
             + (t.assumed.contains("rate-from-schedule") ? " (from its schedule: no rate given)" : "")
             + " × \(Format.count(f.hoursPerMonth)) h × 3600 s = \(Format.count(f.monthlyRequests)) requests/month")
        item("mean duration \(Format.duration(t.meanDurationSeconds))"
             + (t.assumed.contains("duration") ? " (assumed: no duration given)" : "")
             + ", billed \(Format.duration(f.function.billedDurationSeconds)) (1 ms granularity)")
        item("pattern \(t.pattern.rawValue)")

        // Function on demand.
        let gb = Format.gigabytes(f.function.memoryGB)
        line()
        line("Function, on demand")
        item("requests  \(Format.count(f.monthlyRequests)) × \(Format.price(prices.functionPerRequest)) = "
             + Format.money(f.function.requestCost))
        item("compute   \(Format.count(f.monthlyRequests)) × \(Format.duration(f.function.billedDurationSeconds)) × "
             + "\(gb) GB = \(Format.count(f.function.gbSeconds)) GB-s × \(Format.price(prices.functionPerGBSecond)) = "
             + Format.money(f.function.computeCost))
        item("total     \(Format.money(f.function.monthlyCost))/month")

        // Provisioned.
        line()
        line("Function with provisioned concurrency")
        item("environments max(declared \(input.concurrency.provisioned), 1, mean concurrency "
             + "\(Format.number(t.ratePerSecond * t.meanDurationSeconds)) / \(Format.percent(provisionedUtilisationTarget))"
             + (t.pattern == .bursty ? ", burst of \(Format.number(burstFactor))" : "")
             + ") = \(Format.number(f.provisioned.environments)) (\(f.provisioned.environmentsAtPeak) at the peak)")
        item("standing  \(Format.number(f.provisioned.environments)) × \(gb) GB × "
             + "\(Format.count(f.hoursPerMonth * 3600)) s = \(Format.count(f.provisioned.provisionedGBSeconds)) GB-s × "
             + "\(Format.price(prices.provisionedPerGBSecond)) = \(Format.money(f.provisioned.standingCost))")
        item("requests  \(Format.count(f.monthlyRequests)) × \(Format.price(prices.functionPerRequest)) = "
             + Format.money(f.provisioned.requestCost))
        item("duration  \(Format.count(f.function.gbSeconds)) GB-s × \(Format.price(prices.provisionedDurationPerGBSecond)) = "
             + Format.money(f.provisioned.durationCost))
        item("total     \(Format.money(f.provisioned.monthlyCost))/month")

        // Service.
        let s = f.service
        line()
        line("Service")
        item("size      \(Format.number(s.size.vCPU)) vCPU, \(Format.gigabytes(s.size.memoryGB)) GB "
             + (s.size.fitsFargate
                ? "(smallest Fargate size for \(Format.memory(mebibytes: Double(input.memoryMiB)))"
                    + (input.cpus.map { " and \(Format.number($0)) CPU" } ?? "") + ")"
                : "(no Fargate size fits: billed as asked)"))
        item("replica   \(Format.number(s.size.vCPU)) × \(Format.price(prices.servicePerVCPUHour)) + "
             + "\(Format.gigabytes(s.size.memoryGB)) × \(Format.price(prices.servicePerGBHour)) = "
             + "\(Format.price(s.replicaHourCost))/hour")
        item("load      \(Format.rate(t.ratePerSecond)) req/s × \(Format.duration(t.meanDurationSeconds)) / "
             + "(\(s.perReplica) per replica × \(Format.percent(s.utilisationTarget))) = "
             + "\(Format.number(s.replicasForLoad)) replicas (Little's law)")
        item("replicas  max(min \(max(s.replicasMin, 1)), \(Format.number(s.replicasForLoad))) = "
             + "\(Format.number(s.replicasBilled)) on average, \(s.replicasNeeded) at the peak (max \(s.replicasMax))")
        item("total     \(Format.number(s.replicasBilled)) × \(Format.count(f.hoursPerMonth)) h × "
             + "\(Format.price(s.replicaHourCost)) = \(Format.money(s.monthlyCost))/month")

        // Task.
        line()
        line("Task")
        if input.contract != .command && input.mode != .task {
            item("not possible: \(input.contract == .lambda ? "a" : "an") \(input.contract.rawValue) workload "
                 + "does not run to completion")
        } else if input.servesHTTP && input.mode != .task {
            item("not possible: a task cannot serve an http route")
        } else {
            item("runs      \(Format.count(f.monthlyRequests)) × \(Format.duration(f.task.billedSecondsPerRun)) "
                 + "(1 minute minimum) × \(Format.price(s.replicaHourCost))/hour = \(Format.money(f.task.monthlyCost))/month")
        }

        // Break-even.
        line()
        line("Break-even (function on demand = service)")
        let perRequest = prices.functionPerRequest + f.function.billedDurationSeconds * f.function.memoryGB
            * prices.functionPerGBSecond
        item("function per request \(Format.price(prices.functionPerRequest)) + "
             + "\(Format.duration(f.function.billedDurationSeconds)) × \(gb) GB × \(Format.price(prices.functionPerGBSecond)) = "
             + Format.price(perRequest))
        if let breakEven = f.breakEvenRatePerSecond {
            item("rate = \(max(s.replicasMin, 1)) replica × \(Format.price(s.replicaHourCost / 3600))/s / "
                 + "\(Format.price(perRequest)) = \(Format.rate(breakEven)) req/s: function is cheaper below, service above")
            item("expected \(Format.rate(t.ratePerSecond)) req/s: "
                 + (t.ratePerSecond < breakEven ? "function is cheaper" : "service is cheaper"))
        } else {
            item("none: at full load a replica serves a request for less than function mode charges, "
                 + "never more, so function is cheaper at any rate")
        }

        // Cold starts and SLO.
        let l = f.latency
        line()
        line("Cold starts (function on demand)")
        switch t.pattern {
        case .bursty:
            item("model     bursty: clumps of \(Format.number(l.burstFactor)) requests, Poisson at λ/\(Format.number(l.burstFactor)); "
                 + "p = e^(−λT/B) = e^(−\(Format.rate(t.ratePerSecond)) × \(Format.number(l.idleReapSeconds)) / "
                 + "\(Format.number(l.burstFactor))) = \(Format.percent(l.coldStartProbability))")
        case .steady, .sparse:
            item("model     \(t.pattern.rawValue): Poisson arrivals, reaped after \(Format.duration(l.idleReapSeconds)) idle; "
                 + "p = e^(−λT) = e^(−\(Format.rate(t.ratePerSecond)) × \(Format.number(l.idleReapSeconds))) = "
                 + Format.percent(l.coldStartProbability))
        }
        item("cost      \(Format.duration(l.coldStartSeconds)) per cold start; "
             + "\(Format.duration(l.meanAddedLatencySeconds)) added on average")
        item("p99       \(Format.duration(t.meanDurationSeconds))"
             + (l.addedLatencyP99Seconds > 0
                ? " + \(Format.duration(l.addedLatencyP99Seconds)) (more than \(Format.percent(1 - l.quantile)) of requests start cold)"
                : " (at most \(Format.percent(1 - l.quantile)) of requests start cold)")
             + " = \(Format.duration(l.functionP99Seconds))")
        item("peak      \(Format.number(f.function.peakConcurrency)) environments busy at once"
             + (f.function.reservedConcurrency.map { " (reserved concurrency \($0))" } ?? ""))
        line()
        line("Latency SLO")
        if let slo = l.sloSeconds {
            func verdict(_ ok: Bool) -> String { ok ? "meets" : "misses" }
            item("p99 ≤ \(Format.duration(slo)); cold-start risk compared with \(Format.percent(l.riskThreshold))")
            item("function     \(verdict(l.functionMeetsSLO)) (p99 ≈ \(Format.duration(l.functionP99Seconds)))")
            item("provisioned  \(verdict(l.provisionedMeetsSLO)) (warm: p99 ≈ \(Format.duration(t.meanDurationSeconds)))")
            item("service      \(verdict(l.serviceMeetsSLO)) (warm: p99 ≈ \(Format.duration(t.meanDurationSeconds)))")
            item("task         \(verdict(l.taskMeetsSLO)) (always cold: p99 ≈ "
                 + "\(Format.duration(t.meanDurationSeconds + l.coldStartSeconds)))")
        } else {
            item("none set: every option meets it")
        }

        // Capacity.
        let c = f.capacity
        line()
        line("Machine")
        item("\(c.containersAtPeak) × \(Format.memory(mebibytes: Double(input.memoryMiB))) = "
             + "\(Format.memory(mebibytes: Double(c.requiredMemoryMiB))) of "
             + "\(Format.memory(mebibytes: Double(c.machineMemoryMiB))): " + (c.fits ? "fits" : "does not fit"))

        // Hysteresis.
        line()
        line("Stability")
        item("another option must be more than \(Format.percent(f.hysteresisBand)) cheaper before the decision switches,")
        item("and the cold-start risk must cross \(Format.percent(1 - l.quantile)) by a factor of "
             + "\(Format.number(sloRiskMargin)) before the SLO verdict on function mode changes")
        return lines.joined(separator: "\n") + "\n"
    }
}
