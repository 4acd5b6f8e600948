import PropertyBased
import Testing

@testable import Placement

/// Random workloads and traffic.
enum Generators {
    /// A stateless workload with a short timeout that placement may put anywhere.
    static let workload = zip(
        Gen.int(in: 128...10_240),
        Gen.double(in: 0.001...20),
        Gen<Traffic.Pattern>.case,
        Gen.int(in: 1...100),
        Gen.int(in: 0...5),
        Gen.double(in: 0.01...5).optional,
        Gen.int(in: 0...3),
        Gen<PlacementInput.Contract>.case
    ).map { values in
        PlacementInput(
            name: "w", contract: values.7, memoryMiB: values.0,
            concurrency: .init(provisioned: values.6, perReplica: values.3),
            replicas: .init(min: values.4, max: max(values.4, 1) * 4),
            traffic: .init(meanDurationSeconds: values.1, pattern: values.2, latencySLOSeconds: values.5))
    }

    /// Any workload, including ones hard rules apply to.
    static let anyWorkload = zip(
        workload,
        Gen<PlacementInput.RequestedMode>.case,
        Gen<PlacementInput.State>.case,
        Gen.bool,
        Gen.double(in: 1...7200)
    ).map { values in
        var input = values.0
        input.mode = values.1
        input.state = values.2
        input.longLivedConnections = values.3
        input.timeoutSeconds = values.4
        return input
    }

    static let rate = Gen.double(in: 0...2000)

    /// Prices from a tenth to ten times AWS's, each on its own.
    static let prices = Gen.double(in: 0.1...10).array(of: 6).map { f in
        let base = Prices.awsUSEast1
        return Prices(
            functionPerRequest: base.functionPerRequest * f[0],
            functionPerGBSecond: base.functionPerGBSecond * f[1],
            provisionedPerGBSecond: base.provisionedPerGBSecond * f[2],
            provisionedDurationPerGBSecond: base.provisionedDurationPerGBSecond * f[3],
            servicePerVCPUHour: base.servicePerVCPUHour * f[4],
            servicePerGBHour: base.servicePerGBHour * f[5])
    }
}

@Suite("Placement properties")
struct PropertyTests {
    let model = PlacementModel()
    let machine = MachineCapacity(memoryMiB: 65_536)

    func traffic(_ input: PlacementInput, rate: Double) -> Traffic {
        Traffic(
            ratePerSecond: rate, meanDurationSeconds: input.traffic.meanDurationSeconds ?? 0.1,
            pattern: input.traffic.pattern ?? .steady)
    }

    @Test("More traffic never makes function mode relatively cheaper: function/service cost is non-decreasing in rate")
    func ratioMonotone() async {
        await propertyCheck(count: 300, input: Generators.workload, Generators.rate, Generators.rate, Generators.prices) {
            input, a, b, prices in
            let (low, high) = (min(a, b), max(a, b))
            let lowFigures = model.decide(input, traffic: traffic(input, rate: low), prices: prices, machine: machine).figures
            let highFigures = model.decide(input, traffic: traffic(input, rate: high), prices: prices, machine: machine).figures
            let lowRatio = lowFigures.function.monthlyCost / lowFigures.service.monthlyCost
            let highRatio = highFigures.function.monthlyCost / highFigures.service.monthlyCost
            #expect(highRatio >= lowRatio * (1 - 1e-12), "rate \(low) → \(high): ratio \(lowRatio) → \(highRatio)")
        }
    }

    @Test("Hard rules always win, for any traffic, prices and explicit mode")
    func hardRulesWin() async {
        await propertyCheck(count: 300, input: Generators.anyWorkload, Generators.rate, Generators.prices) {
            input, rate, prices in
            let decision = model.decide(input, traffic: traffic(input, rate: rate), prices: prices, machine: machine)
            if input.state == .stateful || input.longLivedConnections {
                #expect(decision.mode == .service)
            }
            if input.timeoutSeconds > 900 {
                #expect(decision.mode != .function)
            }
            let rules = model.hardRules(for: input)
            #expect(decision.hardRule == rules.first)
            for rule in rules {
                #expect(rule.allowedModes.contains(decision.mode))
            }
            if let requested = Decision.Mode(rawValue: input.mode.rawValue) {
                let breaks = rules.contains { !$0.allowedModes.contains(requested) }
                #expect((decision.violation != nil) == breaks)
                if !breaks { #expect(decision.mode == requested) }
            } else {
                #expect(decision.violation == nil)
            }
        }
    }

    @Test("Doubling every price changes no decision")
    func doublePrices() async {
        await propertyCheck(count: 300, input: Generators.anyWorkload, Generators.rate, Generators.prices) {
            input, rate, prices in
            let once = model.decide(input, traffic: traffic(input, rate: rate), prices: prices, machine: machine)
            let twice = model.decide(
                input, traffic: traffic(input, rate: rate), prices: prices.scaled(by: 2), machine: machine)
            #expect(once.option == twice.option)
            #expect(once.mode == twice.mode)
            let again = model.decide(
                input, traffic: traffic(input, rate: rate), prices: prices.scaled(by: 2), machine: machine,
                previous: once)
            #expect(again.option == once.option)
        }
    }

    @Test("Decisions do not flip inside the hysteresis band: a rate change under half the band keeps the decision")
    func hysteresis() async {
        let half = model.hysteresisBand / 2
        await propertyCheck(
            count: 500, input: Generators.workload, Generators.rate, Gen.double(in: (1 / (1 + half))...(1 + half)),
            Generators.prices
        ) { input, rate, factor, prices in
            let before = model.decide(input, traffic: traffic(input, rate: rate), prices: prices, machine: machine)
            let after = model.decide(
                input, traffic: traffic(input, rate: rate * factor), prices: prices, machine: machine,
                previous: before)
            #expect(after.option == before.option, "rate \(rate) × \(factor): \(before.option) → \(after.option)")
        }
    }

    @Test("A decision kept by hysteresis is at most the band dearer than the cheapest option that meets the SLO")
    func keptWithinBand() async {
        await propertyCheck(count: 300, input: Generators.workload, Generators.rate, Generators.rate, Generators.prices) {
            input, a, b, prices in
            let previous = model.decide(input, traffic: traffic(input, rate: a), prices: prices, machine: machine)
            let next = model.decide(
                input, traffic: traffic(input, rate: b), prices: prices, machine: machine, previous: previous)
            let fresh = model.decide(input, traffic: traffic(input, rate: b), prices: prices, machine: machine)
            if next.option != fresh.option, next.reasons.first?.kind == .hysteresis {
                let kept = next.figures.monthlyCost(next.option)
                let cheapest = next.figures.monthlyCost(fresh.option)
                #expect(kept <= next.figures.monthlyCost(fresh.option) * (1 + model.hysteresisBand) || cheapest > kept)
            }
        }
    }
}
