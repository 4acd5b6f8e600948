/// Unit prices in US dollars. The defaults are AWS's published us-east-1
/// x86 prices; each one can be overridden under `pricing:` in the manifest.
public struct Prices: Sendable, Hashable, Codable {
    /// Lambda: per request. Default $0.0000002 ($0.20 per million).
    public var functionPerRequest: Double
    /// Lambda: per GB-second of on-demand duration. Default $0.0000166667.
    public var functionPerGBSecond: Double
    /// Lambda provisioned concurrency: per GB-second kept provisioned,
    /// whether used or not. Default $0.0000041667.
    public var provisionedPerGBSecond: Double
    /// Lambda provisioned concurrency: per GB-second of duration on a
    /// provisioned environment (instead of ``functionPerGBSecond``). Default $0.0000097222.
    public var provisionedDurationPerGBSecond: Double
    /// Fargate: per vCPU-hour. Default $0.04048.
    public var servicePerVCPUHour: Double
    /// Fargate: per GB-hour. Default $0.004445.
    public var servicePerGBHour: Double

    /// AWS us-east-1, x86.
    public static let awsUSEast1 = Prices()

    public init(
        functionPerRequest: Double = 0.0000002,
        functionPerGBSecond: Double = 0.0000166667,
        provisionedPerGBSecond: Double = 0.0000041667,
        provisionedDurationPerGBSecond: Double = 0.0000097222,
        servicePerVCPUHour: Double = 0.04048,
        servicePerGBHour: Double = 0.004445
    ) {
        self.functionPerRequest = functionPerRequest
        self.functionPerGBSecond = functionPerGBSecond
        self.provisionedPerGBSecond = provisionedPerGBSecond
        self.provisionedDurationPerGBSecond = provisionedDurationPerGBSecond
        self.servicePerVCPUHour = servicePerVCPUHour
        self.servicePerGBHour = servicePerGBHour
    }

    /// Lambda: per million requests.
    public var functionPerMillionRequests: Double { functionPerRequest * 1_000_000 }

    /// Every price multiplied by `factor` (used to check that decisions
    /// depend only on price ratios).
    public func scaled(by factor: Double) -> Prices {
        Prices(
            functionPerRequest: functionPerRequest * factor,
            functionPerGBSecond: functionPerGBSecond * factor,
            provisionedPerGBSecond: provisionedPerGBSecond * factor,
            provisionedDurationPerGBSecond: provisionedDurationPerGBSecond * factor,
            servicePerVCPUHour: servicePerVCPUHour * factor,
            servicePerGBHour: servicePerGBHour * factor
        )
    }
}

/// What the machine can hold. The commands pass the real machine's figures;
/// tests pass fixed ones so that outputs do not depend on the machine.
public struct MachineCapacity: Sendable, Hashable, Codable {
    /// Memory available to workloads, MiB.
    public var memoryMiB: Int

    public init(memoryMiB: Int) {
        self.memoryMiB = memoryMiB
    }
}

/// A Fargate task size: the vCPU and memory a replica is billed for.
///
/// Fargate accepts only certain pairs; a replica is billed for the smallest
/// valid size that holds its memory (and its `cpus`, when given):
///
/// | vCPU | memory (GB) |
/// | --- | --- |
/// | 0.25 | 0.5, 1, 2 |
/// | 0.5 | 1 to 4, in 1 GB steps |
/// | 1 | 2 to 8, in 1 GB steps |
/// | 2 | 4 to 16, in 1 GB steps |
/// | 4 | 8 to 30, in 1 GB steps |
/// | 8 | 16 to 60, in 4 GB steps |
/// | 16 | 32 to 120, in 8 GB steps |
///
/// Beyond 16 vCPU or 120 GB no size fits; the replica is then billed for
/// exactly what it asks for (`fitsFargate` is false).
public struct FargateSize: Sendable, Hashable, Codable {
    public var vCPU: Double
    public var memoryGB: Double
    /// Whether this is one of Fargate's valid sizes.
    public var fitsFargate: Bool

    public init(vCPU: Double, memoryGB: Double, fitsFargate: Bool = true) {
        self.vCPU = vCPU
        self.memoryGB = memoryGB
        self.fitsFargate = fitsFargate
    }

    /// The valid memory sizes (GB) for each vCPU size, smallest first.
    static let table: [(vCPU: Double, memoryGB: [Double])] = [
        (0.25, [0.5, 1, 2]),
        (0.5, Array(stride(from: 1.0, through: 4, by: 1))),
        (1, Array(stride(from: 2.0, through: 8, by: 1))),
        (2, Array(stride(from: 4.0, through: 16, by: 1))),
        (4, Array(stride(from: 8.0, through: 30, by: 1))),
        (8, Array(stride(from: 16.0, through: 60, by: 4))),
        (16, Array(stride(from: 32.0, through: 120, by: 8))),
    ]

    /// The smallest valid size with at least `memoryMiB` of memory and at
    /// least `cpus` vCPU (when given). Sizes are ordered by vCPU, then memory.
    public init(memoryMiB: Int, cpus: Double?) {
        let memoryGB = Double(max(memoryMiB, 0)) / 1024
        let wantedCPU = cpus ?? 0
        for row in Self.table where row.vCPU >= wantedCPU {
            if let memory = row.memoryGB.first(where: { $0 >= memoryGB }) {
                self.init(vCPU: row.vCPU, memoryGB: memory)
                return
            }
        }
        self.init(vCPU: max(wantedCPU, 0.25), memoryGB: memoryGB, fitsFargate: false)
    }
}
