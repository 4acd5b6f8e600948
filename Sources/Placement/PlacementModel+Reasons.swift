extension PlacementModel {
    /// The reasons for a decision, main reason first.
    func reasons(
        input: PlacementInput, figures: Figures, chosen: Decision.Option, cheapest: Decision.Option,
        kept: Bool, allowed: [Decision.Option], noneMeetsSLO: Bool, rules: [HardRule], explicit: Bool,
        violation: Violation?
    ) -> [Reason] {
        var reasons: [Reason] = []
        let others = allowed.filter { $0 != chosen }
        let comparison = others.isEmpty
            ? ""
            : " vs " + others.map { "\(name($0, figures)) \(Format.money(figures.monthlyCost($0)))" }
                .joined(separator: ", ")
        let chosenCost = "\(name(chosen, figures)) \(Format.money(figures.monthlyCost(chosen)))/month"
        let latency = figures.latency
        let slo = latency.sloSeconds

        // The main reason.
        if let violation {
            reasons.append(Reason(.hardRule, "manifest error: \(violation.message); placed in \(chosen.mode.rawValue) mode"))
        } else if let rule = rules.first {
            var text = "hard rule: \(ruleText(rule, input))"
            if !others.isEmpty { text += "; \(chosenCost)\(comparison)" }
            reasons.append(Reason(.hardRule, text))
        } else if explicit {
            var text = "manifest asks for mode: \(input.mode.rawValue)"
            if chosen == .provisioned { text += " with provisioned concurrency" }
            text += " (\(chosenCost))"
            reasons.append(Reason(.explicit, text))
        } else if kept {
            let saving = 1 - figures.monthlyCost(cheapest) / figures.monthlyCost(chosen)
            reasons.append(Reason(
                .hysteresis,
                "kept \(name(chosen, figures)): \(name(cheapest, figures)) is cheaper by only "
                    + "\(Format.percent(saving)) (\(Format.money(figures.monthlyCost(cheapest))) vs "
                    + "\(Format.money(figures.monthlyCost(chosen)))), inside the "
                    + "\(Format.percent(hysteresisBand)) hysteresis band"))
        } else if noneMeetsSLO, let slo {
            reasons.append(Reason(
                .latency,
                "no option meets the p99 SLO of \(Format.duration(slo)) (requests take "
                    + "\(Format.duration(figures.traffic.meanDurationSeconds)) on average); "
                    + "cheapest is \(chosenCost)\(comparison)"))
        } else if chosen != .function, allowed.contains(.function), !latency.functionMeetsSLO, let slo,
                  figures.function.monthlyCost < figures.monthlyCost(chosen)
        {
            reasons.append(Reason(
                .latency,
                "function on demand would miss the p99 SLO of \(Format.duration(slo)): "
                    + "\(Format.percent(latency.coldStartProbability)) of requests meet a "
                    + "\(Format.duration(latency.coldStartSeconds)) cold start (p99 ≈ "
                    + "\(Format.duration(latency.functionP99Seconds))); \(chosenCost)\(comparison)"))
        } else {
            var text = "\(name(chosen, figures)) is cheapest: \(Format.money(figures.monthlyCost(chosen)))/month\(comparison)"
            if [.function, .service].contains(chosen), allowed.contains(.function), allowed.contains(.service) {
                text += " (" + breakEvenText(figures) + ")"
            }
            reasons.append(Reason(.cost, text))
        }

        // Latency, when an SLO is set and the main reason is not about it.
        if let slo, reasons.first?.kind != .latency, chosen == .function {
            let verdict = latency.functionMeetsSLO ? "within" : "over"
            reasons.append(Reason(
                .latency,
                "cold-start risk \(Format.percent(latency.coldStartProbability)): p99 ≈ "
                    + "\(Format.duration(latency.functionP99Seconds)), \(verdict) the SLO of \(Format.duration(slo))"))
        }

        // Limits.
        if chosen == .service, figures.service.replicasNeeded > figures.service.replicasMax {
            reasons.append(Reason(
                .limits,
                "the load needs \(figures.service.replicasNeeded) replicas but replicas.max is "
                    + "\(figures.service.replicasMax): requests will queue"))
        }
        if chosen.mode == .function, let reserved = input.concurrency.reserved, reserved > 0 {
            let environments = chosen == .provisioned
                ? figures.provisioned.environmentsAtPeak : Self.roundedUp(figures.function.peakConcurrency)
            if environments > reserved {
                reasons.append(Reason(
                    .limits,
                    "\(environments) environments at the peak are over reserved concurrency "
                        + "\(reserved): requests will be throttled"))
            }
        }

        // Capacity.
        let capacity = figures.capacity
        if !capacity.fits {
            reasons.append(Reason(
                .capacity,
                "does not fit the machine: \(capacity.containersAtPeak) × "
                    + "\(Format.memory(mebibytes: Double(input.memoryMiB))) = "
                    + "\(Format.memory(mebibytes: Double(capacity.requiredMemoryMiB))) > "
                    + "\(Format.memory(mebibytes: Double(capacity.machineMemoryMiB)))"))
        }

        // Assumptions.
        if figures.traffic.assumed.contains("rate") {
            reasons.append(Reason(.assumption, "no traffic rate given: assumed 0 req/s"))
        }
        if figures.traffic.assumed.contains("rate-from-schedule") {
            reasons.append(Reason(
                .assumption,
                "no traffic rate given: \(Format.number(figures.traffic.ratePerSecond * 86_400)) runs/day from its schedule"))
        }
        if figures.traffic.assumed.contains("duration") {
            reasons.append(Reason(
                .assumption,
                "no request duration given: assumed \(Format.duration(figures.traffic.meanDurationSeconds))"))
        }
        return reasons
    }

    /// The option's name in reasons.
    func name(_ option: Decision.Option, _ figures: Figures) -> String {
        switch option {
        case .function: "function"
        case .provisioned: "provisioned function (\(figures.provisioned.environmentsAtPeak) warm)"
        case .service: "service"
        case .task: "task"
        }
    }

    func breakEvenText(_ figures: Figures) -> String {
        let expected = "expected \(Format.rate(figures.traffic.ratePerSecond)) req/s"
        guard let breakEven = figures.breakEvenRatePerSecond else {
            return "function is cheaper at any rate; \(expected)"
        }
        return "break-even \(Format.rate(breakEven)) req/s, \(expected)"
    }

    /// A hard rule in words, for `input`.
    func ruleText(_ rule: HardRule, _ input: PlacementInput) -> String {
        switch rule {
        case .timeoutOverFunctionLimit:
            "timeout \(Format.duration(input.timeoutSeconds)) is over function mode's "
                + "\(Format.duration(functionTimeLimitSeconds)) limit: task or service"
        case .stateful:
            "a stateful workload runs as a service"
        case .longLivedConnections:
            "long-lived connections (streaming, websockets) need a service"
        }
    }
}
