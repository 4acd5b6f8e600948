import Foundation

/// The cost formulas, each a plain function of its figures.
///
/// A month is ``PlacementModel/hoursPerMonth`` hours (730 by default, AWS's
/// convention), so `requests = rate × 730 × 3600`.
///
/// - Function (on demand), Lambda's billing:
///   `requests × ($ per request + billed duration × GB × $ per GB-second)`,
///   with the duration rounded up to 1 ms and GB = MiB / 1024. The time
///   spent in a cold start is not billed here.
/// - Function with provisioned concurrency:
///   `environments × GB × seconds × $ per provisioned GB-second
///    + requests × ($ per request + billed duration × GB × $ per provisioned-duration GB-second)`.
/// - Service, Fargate's billing:
///   `replicas × hours × (vCPU × $ per vCPU-hour + GB × $ per GB-hour)`, for the
///   replica's ``FargateSize``. Replicas come from Little's law:
///   `rate × duration / (per-replica concurrency × utilisation target)`, at
///   least `max(replicas.min, 1)` (a service is always on). The cost uses this
///   time-averaged (fractional) count, because service mode autoscales and its
///   replica-hours follow the load; the machine check uses the count rounded up.
///   Because both costs are then proportional to the rate above the minimum,
///   more traffic never makes function mode relatively cheaper.
/// - Task: `runs × max(duration, 60 s) × replica-hour cost / 3600` (Fargate bills
///   per second with a one-minute minimum).
public enum CostModel {
    /// Seconds in a month of `hours` hours.
    public static func secondsPerMonth(hours: Double) -> Double { hours * 3600 }

    /// The duration Lambda bills: rounded up to a whole millisecond, at least 1 ms.
    public static func billedDuration(seconds: Double) -> Double {
        guard seconds.isFinite, seconds > 0 else { return 0.001 }
        // Round away representation noise (0.1 s × 1000 is not exactly 100).
        let milliseconds = (seconds * 1000 * 1_000_000).rounded() / 1_000_000
        return max(1, milliseconds.rounded(.up)) / 1000
    }

    /// Function mode on demand, for a month.
    public static func function(
        requests: Double, billedDurationSeconds: Double, memoryGB: Double, prices: Prices
    ) -> (requestCost: Double, gbSeconds: Double, computeCost: Double, total: Double) {
        let requestCost = requests * prices.functionPerRequest
        let gbSeconds = requests * billedDurationSeconds * memoryGB
        let computeCost = gbSeconds * prices.functionPerGBSecond
        return (requestCost, gbSeconds, computeCost, requestCost + computeCost)
    }

    /// Function mode with `environments` provisioned all month.
    public static func provisioned(
        environments: Double, requests: Double, billedDurationSeconds: Double,
        memoryGB: Double, monthSeconds: Double, prices: Prices
    ) -> (provisionedGBSeconds: Double, standingCost: Double, requestCost: Double,
          durationCost: Double, total: Double)
    {
        let provisionedGBSeconds = environments * memoryGB * monthSeconds
        let standingCost = provisionedGBSeconds * prices.provisionedPerGBSecond
        let requestCost = requests * prices.functionPerRequest
        let durationCost = requests * billedDurationSeconds * memoryGB * prices.provisionedDurationPerGBSecond
        return (provisionedGBSeconds, standingCost, requestCost, durationCost,
                standingCost + requestCost + durationCost)
    }

    /// What one replica of `size` costs per hour.
    public static func replicaHourCost(size: FargateSize, prices: Prices) -> Double {
        size.vCPU * prices.servicePerVCPUHour + size.memoryGB * prices.servicePerGBHour
    }

    /// Little's law: the replicas the load keeps busy at the utilisation target.
    public static func replicasForLoad(
        ratePerSecond: Double, durationSeconds: Double, perReplica: Int, utilisationTarget: Double
    ) -> Double {
        ratePerSecond * durationSeconds / (Double(max(perReplica, 1)) * utilisationTarget)
    }

    /// Service mode for a month: `replicas` on average.
    public static func service(replicas: Double, hours: Double, replicaHourCost: Double) -> Double {
        replicas * hours * replicaHourCost
    }

    /// The rate at which function mode (on demand) and service mode cost the same.
    ///
    /// With `a` = function cost per request, `r` = replica cost per second and
    /// `m` = minimum replicas: function costs `rate × a` per second and service
    /// `r × max(m, rate × duration / (c × u))`. Below the rate that saturates
    /// the minimum replicas the two are equal at `m × r / a`; above it the
    /// ratio is constant, `a × c × u / (duration × r)`. So the break-even is
    /// `m × r / a` when that ratio is at least 1, and there is none (function is
    /// cheaper at every rate) when it is below 1.
    public static func breakEvenRate(
        functionCostPerRequest a: Double, replicaCostPerSecond r: Double, minimumReplicas m: Double,
        durationSeconds: Double, perReplica: Int, utilisationTarget: Double
    ) -> Double? {
        guard a > 0 else { return nil }
        let capacityPerReplica = Double(max(perReplica, 1)) * utilisationTarget / durationSeconds
        // a × c × u / d ≥ r  ⇔  service per request at full load costs no more than function.
        guard a * capacityPerReplica >= r else { return nil }
        return m * r / a
    }

    /// Task mode for a month: one Fargate task per event.
    public static func task(
        runs: Double, durationSeconds: Double, replicaHourCost: Double
    ) -> (billedSecondsPerRun: Double, total: Double) {
        let billed = max(60, durationSeconds.rounded(.up))
        return (billed, runs * billed * replicaHourCost / 3600)
    }
}

/// The cold-start model.
///
/// - steady and sparse: arrivals form a Poisson stream at rate λ. An
///   environment is reaped after `T` seconds idle, so a request meets a cold
///   start roughly when the gap since the previous request exceeds `T`:
///   `p = e^(−λT)`. (Extra environments started when concurrency rises above
///   the pool are ignored: the pool keeps its peak size for `T`.) Sparse
///   traffic has a small λ, so p is high.
/// - bursty: requests arrive in clumps of `B` (the burst factor) landing
///   together; clumps form a Poisson stream at λ / B. A clump finds the pool
///   reaped when the gap since the previous clump exceeds `T`, and then all of
///   its requests start cold: `p = e^(−λT/B)`. A clump keeps `B` environments
///   busy at once.
///
/// Peak concurrency (environments busy at once) is `λ × duration` for steady
/// and sparse traffic and `max(B, λ × duration)` for bursty traffic.
public enum ColdStartModel {
    /// The chance that a request meets a cold start.
    public static func probability(
        ratePerSecond: Double, idleReapSeconds: Double, pattern: Traffic.Pattern, burstFactor: Double
    ) -> Double {
        let effectiveRate = pattern == .bursty ? ratePerSecond / max(burstFactor, 1) : ratePerSecond
        return min(1, max(0, Foundation.exp(-effectiveRate * idleReapSeconds)))
    }

    /// Environments busy at once at the peak.
    public static func peakConcurrency(
        ratePerSecond: Double, durationSeconds: Double, pattern: Traffic.Pattern, burstFactor: Double
    ) -> Double {
        let mean = ratePerSecond * durationSeconds
        return pattern == .bursty ? max(max(burstFactor, 1), mean) : mean
    }
}
