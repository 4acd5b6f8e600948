import Manifest
import Testing

@testable import Placement

@Suite("Decisions")
struct DecisionTests {
    let model = PlacementModel()
    let machine = MachineCapacity(memoryMiB: 16_384)

    @Test("A stateful workload runs as a service, whatever its traffic")
    func stateful() {
        let input = PlacementInput(name: "db", state: .stateful, traffic: .init(ratePerSecond: 0.001))
        let decision = model.decide(input, machine: machine)
        #expect(decision.mode == .service)
        #expect(decision.hardRule == .stateful)
        #expect(decision.reasons.first?.kind == .hardRule)
        #expect(decision.violation == nil)
    }

    @Test("Long-lived connections (streaming, websockets) run as a service")
    func longLived() {
        let input = PlacementInput(name: "chat", longLivedConnections: true, traffic: .init(ratePerSecond: 0.01))
        let decision = model.decide(input, machine: machine)
        #expect(decision.mode == .service)
        #expect(decision.hardRule == .longLivedConnections)
    }

    @Test("A timeout over 15 minutes rules out function mode; a command may run as a task")
    func longTimeout() {
        let http = PlacementInput(name: "slow", timeoutSeconds: 3600, traffic: .init(ratePerSecond: 0.0001))
        #expect(model.decide(http, machine: machine).mode == .service)
        let command = PlacementInput(
            name: "report", contract: .command, timeoutSeconds: 7200,
            traffic: .init(ratePerSecond: 1.0 / 86_400, meanDurationSeconds: 2400))
        let decision = model.decide(command, machine: machine)
        #expect(decision.mode == .task)
        #expect(decision.hardRule == .timeoutOverFunctionLimit)
        #expect(decision.mainReason.contains("task or service"))
    }

    @Test("An explicit mode that breaks a hard rule is marked as a violation and the rule still wins")
    func violation() {
        let input = PlacementInput(name: "db", mode: .function, state: .stateful)
        let decision = model.decide(input, machine: machine)
        #expect(decision.mode == .service)
        #expect(decision.violation?.rule == .stateful)
        #expect(decision.violation?.requested == .function)
        #expect(decision.mainReason.hasPrefix("manifest error: mode: function breaks a hard rule"))
    }

    @Test("An explicit mode wins over a cheaper one")
    func explicit() {
        let input = PlacementInput(name: "api", mode: .service, traffic: .init(ratePerSecond: 0.01))
        let decision = model.decide(input, machine: machine)
        #expect(decision.mode == .service)
        #expect(decision.figures.function.monthlyCost < decision.figures.service.monthlyCost)
        #expect(decision.reasons.first?.kind == .explicit)
    }

    @Test("Little traffic goes to function mode, heavy traffic to service mode")
    func byCost() {
        let light = model.decide(
            PlacementInput(name: "w", traffic: .init(ratePerSecond: 0.5, meanDurationSeconds: 0.1)), machine: machine)
        #expect(light.option == .function)
        #expect(light.mainReason.hasPrefix("function is cheapest"))
        #expect(light.mainReason.contains("break-even 3.32 req/s"))
        let heavy = model.decide(
            PlacementInput(name: "w", traffic: .init(ratePerSecond: 50, meanDurationSeconds: 0.1)), machine: machine)
        #expect(heavy.option == .service)
    }

    @Test("Without a rate hint, 0 req/s is assumed and said so")
    func noHints() {
        let decision = model.decide(PlacementInput(name: "w"), machine: machine)
        #expect(decision.option == .function)
        #expect(decision.figures.function.monthlyCost == 0)
        #expect(decision.reasons.contains { $0.kind == .assumption && $0.text.contains("0 req/s") })
    }

    @Test("Sparse traffic that misses the SLO on cold starts gets provisioned concurrency when it is cheaper than a service")
    func provisionedForSLO() {
        let input = PlacementInput(
            name: "w",
            traffic: .init(ratePerSecond: 1.0 / 600, meanDurationSeconds: 0.05, pattern: .sparse, latencySLOSeconds: 0.1))
        let decision = model.decide(input, machine: machine)
        #expect(!decision.figures.latency.functionMeetsSLO)
        #expect(decision.figures.latency.coldStartProbability > 0.5)
        #expect(decision.option == .provisioned)
        #expect(decision.mode == .function)
        #expect(decision.reasons.first?.kind == .latency)
    }

    @Test("When no mode can meet the SLO, the cheapest is chosen and the reason says so")
    func unattainableSLO() {
        let input = PlacementInput(
            name: "w", traffic: .init(ratePerSecond: 1, meanDurationSeconds: 0.5, latencySLOSeconds: 0.1))
        let decision = model.decide(input, machine: machine)
        let cheapest = Decision.Option.allCases.filter { $0 != .task }
            .min { decision.figures.monthlyCost($0) < decision.figures.monthlyCost($1) }
        #expect(decision.option == cheapest)
        #expect(decision.mainReason.hasPrefix("no option meets the p99 SLO of 100ms"))
    }

    @Test("Declared provisioned concurrency keeps function mode provisioned")
    func declaredProvisioned() {
        let input = PlacementInput(
            name: "thumb", mode: .function, concurrency: .init(provisioned: 3),
            traffic: .init(ratePerSecond: 0.1))
        let decision = model.decide(input, machine: machine)
        #expect(decision.option == .provisioned)
        #expect(decision.figures.provisioned.environments == 3)
    }

    @Test("A decision that does not fit the machine says so in its reasons")
    func capacity() {
        let input = PlacementInput(
            name: "big", mode: .service, memoryMiB: 2048,
            replicas: .init(min: 10, max: 10))
        let decision = model.decide(input, machine: MachineCapacity(memoryMiB: 8192))
        #expect(!decision.fitsMachine)
        #expect(decision.figures.capacity.requiredMemoryMiB == 20_480)
        #expect(decision.reasons.contains { $0.kind == .capacity && $0.text.contains("20 GiB > 8 GiB") })
    }

    @Test("Replicas over replicas.max and peaks over reserved concurrency are reported")
    func limits() {
        let service = PlacementInput(
            name: "s", mode: .service, replicas: .init(min: 1, max: 2),
            traffic: .init(ratePerSecond: 100, meanDurationSeconds: 0.1))
        #expect(model.decide(service, machine: machine).reasons.contains { $0.kind == .limits })
        let function = PlacementInput(
            name: "f", mode: .function, concurrency: .init(reserved: 2),
            traffic: .init(ratePerSecond: 100, meanDurationSeconds: 0.1))
        #expect(model.decide(function, machine: machine).reasons.contains { $0.kind == .limits })
    }

    @Test("Inside the hysteresis band the previous decision is kept, and the reason says so")
    func hysteresis() {
        // Break-even for this workload is 3.318 req/s: at 3.0 function is ~10% cheaper.
        let input = PlacementInput(name: "w", traffic: .init(ratePerSecond: 3.0, meanDurationSeconds: 0.1))
        let fresh = model.decide(input, machine: machine)
        #expect(fresh.option == .function)
        var previous = fresh
        previous.option = .service
        previous.mode = .service
        let kept = model.decide(input, machine: machine, previous: previous)
        #expect(kept.option == .service)
        #expect(kept.reasons.first?.kind == .hysteresis)
        #expect(kept.mainReason.contains("inside the 20% hysteresis band"))
        // Far outside the band it switches.
        var low = input
        low.traffic.ratePerSecond = 1
        #expect(model.decide(low, machine: machine, previous: previous).option == .function)
    }

    @Test("Odd inputs give a decision, never a crash",
          arguments: [Double.nan, .infinity, -.infinity, -1, 0, 1e300, .leastNonzeroMagnitude])
    func oddInputs(value: Double) {
        let input = PlacementInput(
            name: "odd", memoryMiB: value > 0 ? Int.max : -5, cpus: value, timeoutSeconds: value,
            concurrency: .init(reserved: -1, provisioned: -3, perReplica: 0),
            replicas: .init(min: -2, max: -1),
            traffic: .init(ratePerSecond: value, meanDurationSeconds: value, latencySLOSeconds: value),
            idleReapSeconds: value)
        let decision = model.decide(input, traffic: nil, prices: Prices.awsUSEast1.scaled(by: value), machine: machine)
        #expect(!decision.reasons.isEmpty)
        _ = Plan(decisions: [decision]).table()
        _ = Plan(decisions: [decision]).json()
        _ = model.explanation(of: decision, for: input, prices: .awsUSEast1)
    }

    @Test("A manifest workload adapts to a placement input")
    func adapter() {
        let workload = Workload(
            name: "api", source: .image("api:latest"), contract: .http, mode: .auto,
            memory: .mebibytes(256), cpus: 0.5, timeout: .minutes(20),
            concurrency: Concurrency(reserved: 5, provisioned: 1, perReplica: 20),
            replicas: Replicas(min: 2, max: 4), state: .stateful,
            traffic: TrafficHints(
                rate: Rate(perSecond: 3), duration: .milliseconds(40), pattern: .bursty,
                latencySLO: .milliseconds(200), streaming: true))
        let input = PlacementInput(workload: workload)
        #expect(input.memoryMiB == 256)
        #expect(input.cpus == 0.5)
        #expect(input.timeoutSeconds == 1200)
        #expect(input.state == .stateful)
        #expect(input.longLivedConnections)
        #expect(input.concurrency == .init(reserved: 5, provisioned: 1, perReplica: 20))
        #expect(input.replicas == .init(min: 2, max: 4))
        #expect(input.traffic == .init(
            ratePerSecond: 3, meanDurationSeconds: 0.04, pattern: .bursty, latencySLOSeconds: 0.2))
        let bare = PlacementInput(workload: Workload(name: "b", source: .image("b"), contract: .command))
        #expect(bare.timeoutSeconds == 3)
        #expect(bare.replicas == .init(min: 1, max: 1))
        #expect(bare.concurrency == .init())
    }

    @Test("Manifest pricing overrides the default prices, one by one")
    func pricing() {
        let prices = Prices(pricing: Pricing(lambdaPerRequest: 0.0000004, fargatePerGBHour: 0.01))
        #expect(prices.functionPerRequest == 0.0000004)
        #expect(prices.servicePerGBHour == 0.01)
        #expect(prices.functionPerGBSecond == Prices.awsUSEast1.functionPerGBSecond)
        #expect(prices.servicePerVCPUHour == Prices.awsUSEast1.servicePerVCPUHour)
    }
}
