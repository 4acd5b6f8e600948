import Testing

@testable import Placement

@Suite("Cost model")
struct CostModelTests {
    @Test("1M requests × 100 ms × 512 MB cost $0.20 + 50,000 GB-s × $0.0000166667 = $1.033335")
    func functionExample() {
        let cost = CostModel.function(
            requests: 1_000_000, billedDurationSeconds: 0.1, memoryGB: 0.5, prices: .awsUSEast1)
        #expect(cost.requestCost.isClose(to: 0.20))
        #expect(cost.gbSeconds.isClose(to: 50_000))
        #expect(cost.computeCost.isClose(to: 0.833335))
        #expect(cost.total.isClose(to: 1.033335))
    }

    @Test("Lambda bills the duration rounded up to the millisecond, at least 1 ms",
          arguments: [(0.1, 0.1), (0.0991, 0.1), (0.0001, 0.001), (0.25, 0.25), (1.0004, 1.001), (0, 0.001)])
    func billedDuration(seconds: Double, billed: Double) {
        #expect(CostModel.billedDuration(seconds: seconds).isClose(to: billed))
    }

    @Test("A replica gets the smallest Fargate size that holds its memory and CPUs",
          arguments: [
            (128, nil, 0.25, 0.5), (512, nil, 0.25, 0.5), (2048, nil, 0.25, 2), (2049, nil, 0.5, 3),
            (512, 0.5, 0.5, 1), (1024, 2, 2, 4), (9216, nil, 2, 9), (31 * 1024, nil, 8, 32),
            (61 * 1024, nil, 16, 64), (512, 3, 4, 8),
          ] as [(Int, Double?, Double, Double)])
    func fargateSize(memoryMiB: Int, cpus: Double?, vCPU: Double, memoryGB: Double) {
        let size = FargateSize(memoryMiB: memoryMiB, cpus: cpus)
        #expect(size.vCPU == vCPU)
        #expect(size.memoryGB == memoryGB)
        #expect(size.fitsFargate)
    }

    @Test("Beyond 16 vCPU or 120 GB no Fargate size fits and the replica is billed as asked")
    func fargateTooLarge() {
        let size = FargateSize(memoryMiB: 121 * 1024, cpus: nil)
        #expect(!size.fitsFargate)
        #expect(size.memoryGB == 121)
    }

    @Test("A 0.25 vCPU 0.5 GB replica costs 0.25 × $0.04048 + 0.5 × $0.004445 = $0.0123425 an hour, $9.01 a month")
    func replicaHour() {
        let hour = CostModel.replicaHourCost(size: FargateSize(vCPU: 0.25, memoryGB: 0.5), prices: .awsUSEast1)
        #expect(hour.isClose(to: 0.0123425))
        #expect(CostModel.service(replicas: 1, hours: 730, replicaHourCost: hour).isClose(to: 9.010025))
    }

    @Test("Little's law: 10 req/s × 1 s at 1 per replica and 70% utilisation needs 14.29 replicas, 15 at the peak")
    func littlesLaw() {
        let load = CostModel.replicasForLoad(
            ratePerSecond: 10, durationSeconds: 1, perReplica: 1, utilisationTarget: 0.7)
        #expect(load.isClose(to: 10 / 0.7))
        let input = PlacementInput(name: "w", traffic: .init(ratePerSecond: 10, meanDurationSeconds: 1))
        let decision = PlacementModel().decide(input, machine: .init(memoryMiB: 1 << 20))
        #expect(decision.figures.service.replicasNeeded == 15)
    }

    @Test("A service costs at least its minimum replicas: 40 req/s × 25 ms at 50 per replica still pays for min 2")
    func serviceMinimum() {
        let input = PlacementInput(
            name: "api", memoryMiB: 512, cpus: 0.5, concurrency: .init(perReplica: 50),
            replicas: .init(min: 2, max: 6),
            traffic: .init(ratePerSecond: 40, meanDurationSeconds: 0.025))
        let figures = PlacementModel().decide(input, machine: .init(memoryMiB: 16_384)).figures
        #expect(figures.service.replicasForLoad.isClose(to: 1 / 35))
        #expect(figures.service.replicasBilled == 2)
        // 2 × 730 h × (0.5 × $0.04048 + 1 × $0.004445)
        #expect(figures.service.monthlyCost.isClose(to: 2 * 730 * 0.024685))
    }

    @Test("Two provisioned 1 GB environments stand at 5,256,000 GB-s × $0.0000041667 = $21.90 a month")
    func provisioned() {
        let cost = CostModel.provisioned(
            environments: 2, requests: 1_000_000, billedDurationSeconds: 0.1, memoryGB: 1,
            monthSeconds: 730 * 3600, prices: .awsUSEast1)
        #expect(cost.provisionedGBSeconds.isClose(to: 5_256_000))
        #expect(cost.standingCost.isClose(to: 21.9001752))
        #expect(cost.requestCost.isClose(to: 0.2))
        #expect(cost.durationCost.isClose(to: 100_000 * 0.0000097222))
    }

    @Test("A task run is billed per second with a one-minute minimum")
    func task() {
        let short = CostModel.task(runs: 100, durationSeconds: 2, replicaHourCost: 3.6)
        #expect(short.billedSecondsPerRun == 60)
        #expect(short.total.isClose(to: 100 * 60 * 0.001))
        let long = CostModel.task(runs: 1, durationSeconds: 2400.2, replicaHourCost: 3.6)
        #expect(long.billedSecondsPerRun == 2401)
    }

    @Test("Break-even for 100 ms × 512 MB against one 0.25 vCPU replica: $0.0123425/3600 / $0.000001033335 = 3.318 req/s")
    func breakEven() {
        let perRequest = 0.0000002 + 0.1 * 0.5 * 0.0000166667
        let rate = CostModel.breakEvenRate(
            functionCostPerRequest: perRequest, replicaCostPerSecond: 0.0123425 / 3600, minimumReplicas: 1,
            durationSeconds: 0.1, perReplica: 1, utilisationTarget: 0.7)
        #expect(rate?.isClose(to: 0.0123425 / 3600 / perRequest) == true)
        #expect(rate.map { abs($0 - 3.3179) < 0.001 } == true)
        // At the break-even rate the two modes cost the same.
        let input = PlacementInput(name: "w", traffic: .init(ratePerSecond: rate ?? 0, meanDurationSeconds: 0.1))
        let figures = PlacementModel().decide(input, machine: .init(memoryMiB: 16_384)).figures
        #expect(figures.function.monthlyCost.isClose(to: figures.service.monthlyCost))
    }

    @Test("With a 4 vCPU replica for a 512 MiB function there is no break-even: function is cheaper at any rate")
    func noBreakEven() {
        let input = PlacementInput(name: "w", memoryMiB: 512, cpus: 4, traffic: .init(ratePerSecond: 1000))
        let decision = PlacementModel().decide(input, machine: .init(memoryMiB: 1 << 30))
        #expect(decision.figures.breakEvenRatePerSecond == nil)
        #expect(decision.mode == .function)
    }

    @Test("Cold-start probability: e^(−λT) for steady traffic, e^(−λT/B) for bursty")
    func coldStart() {
        let steady = ColdStartModel.probability(
            ratePerSecond: 0.01, idleReapSeconds: 300, pattern: .steady, burstFactor: 10)
        #expect(steady.isClose(to: 0.049787068367863944))
        let bursty = ColdStartModel.probability(
            ratePerSecond: 0.1, idleReapSeconds: 300, pattern: .bursty, burstFactor: 10)
        #expect(bursty.isClose(to: 0.049787068367863944))
        #expect(ColdStartModel.probability(ratePerSecond: 0, idleReapSeconds: 300, pattern: .sparse, burstFactor: 10) == 1)
        #expect(ColdStartModel.peakConcurrency(ratePerSecond: 1, durationSeconds: 0.1, pattern: .bursty, burstFactor: 10) == 10)
        #expect(ColdStartModel.peakConcurrency(ratePerSecond: 1, durationSeconds: 0.1, pattern: .steady, burstFactor: 10)
            .isClose(to: 0.1))
    }
}

extension Double {
    /// Equal within a relative 1e-9 (or an absolute 1e-12 near zero).
    func isClose(to other: Double) -> Bool {
        abs(self - other) <= max(abs(self), abs(other)) * 1e-9 || abs(self - other) < 1e-12
    }
}
