import Foundation

/// What `tandem plan` shows: one decision per workload, as a table or JSON.
/// Rendering is pure, so tests compare it with golden files.
public struct Plan: Sendable, Hashable {
    /// The decisions, in manifest order.
    public var decisions: [Decision]

    public init(decisions: [Decision]) {
        self.decisions = decisions
    }

    /// The column headers of ``table()``.
    public static let headers = [
        "WORKLOAD", "MODE", "FUNCTION $/MO", "PROVISIONED $/MO", "SERVICE $/MO", "TASK $/MO",
        "BREAK-EVEN", "COLD START", "REASON",
    ]

    /// Columns that hold numbers and are aligned right.
    static let rightAligned: Set<Int> = [2, 3, 4, 5, 6, 7]

    /// One row of the table per workload; the last column is not padded.
    public func table() -> String {
        var rows = [Self.headers]
        rows.reserveCapacity(decisions.count + 1)
        for decision in decisions {
            let figures = decision.figures
            rows.append([
                decision.workload,
                Self.modeText(decision),
                Format.money(figures.function.monthlyCost),
                Format.money(figures.provisioned.monthlyCost),
                Format.money(figures.service.monthlyCost),
                figures.task.possible ? Format.money(figures.task.monthlyCost) : "-",
                figures.breakEvenRatePerSecond.map { Format.rate($0) + "/s" } ?? "none",
                Format.percent(figures.latency.coldStartProbability),
                decision.mainReason,
            ])
        }
        var widths = [Int](repeating: 0, count: Self.headers.count)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        var out = ""
        for row in rows {
            var line = ""
            for (column, cell) in row.enumerated() {
                let isLast = column == row.count - 1
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                if Self.rightAligned.contains(column) {
                    line += padding + cell
                } else {
                    line += isLast ? cell : cell + padding
                }
                if !isLast { line += "  " }
            }
            out += line + "\n"
        }
        return out
    }

    /// The mode as the table shows it: `function`, `function (provisioned)`, `service`, `task`.
    static func modeText(_ decision: Decision) -> String {
        decision.option == .provisioned ? "function (provisioned)" : decision.mode.rawValue
    }

    /// A stable JSON document: sorted keys, two-space indentation, figures
    /// rounded (money to 1/10,000 of a dollar, rates and probabilities to 6 decimals).
    public func json() -> String {
        let document = Document(workloads: decisions.map(Document.Workload.init))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(document), let text = String(data: data, encoding: .utf8) else {
            return "{}\n"  // unreachable: the document holds only strings, numbers and arrays
        }
        return text + "\n"
    }

    /// The JSON document of ``json()``.
    struct Document: Encodable {
        struct Costs: Encodable {
            var function: Double
            var provisioned: Double
            var service: Double
            var task: Double?

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(function, forKey: .function)
                try container.encode(provisioned, forKey: .provisioned)
                try container.encode(service, forKey: .service)
                try container.encode(task, forKey: .task)
            }

            enum CodingKeys: String, CodingKey { case function, provisioned, service, task }
        }

        struct Workload: Encodable {
            var name: String
            var mode: String
            var option: String
            var monthlyCost: Costs
            var breakEvenRate: Double?
            var coldStartProbability: Double
            var functionP99Seconds: Double
            var latencySLOSeconds: Double?
            var replicas: Int
            var provisionedEnvironments: Int
            var fitsMachine: Bool
            var hardRule: String?
            var violation: String?
            var reason: String
            var reasons: [Reason]

            init(_ decision: Decision) {
                let figures = decision.figures
                name = decision.workload
                mode = decision.mode.rawValue
                option = decision.option.rawValue
                monthlyCost = Costs(
                    function: Self.money(figures.function.monthlyCost),
                    provisioned: Self.money(figures.provisioned.monthlyCost),
                    service: Self.money(figures.service.monthlyCost),
                    task: figures.task.possible ? Self.money(figures.task.monthlyCost) : nil)
                breakEvenRate = figures.breakEvenRatePerSecond.map(Self.fine)
                coldStartProbability = Self.fine(figures.latency.coldStartProbability)
                functionP99Seconds = Self.fine(figures.latency.functionP99Seconds)
                latencySLOSeconds = figures.latency.sloSeconds.map(Self.fine)
                replicas = figures.service.replicasNeeded
                provisionedEnvironments = figures.provisioned.environmentsAtPeak
                fitsMachine = decision.fitsMachine
                hardRule = decision.hardRule?.rawValue
                violation = decision.violation?.message
                reason = decision.mainReason
                reasons = decision.reasons
            }

            static func money(_ x: Double) -> Double { rounded(x, places: 4) }
            static func fine(_ x: Double) -> Double { rounded(x, places: 6) }
            static func rounded(_ x: Double, places: Int) -> Double {
                guard x.isFinite else { return 0 }
                var scale = 1.0
                for _ in 0..<places { scale *= 10 }
                return (x * scale).rounded() / scale
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(name, forKey: .name)
                try container.encode(mode, forKey: .mode)
                try container.encode(option, forKey: .option)
                try container.encode(monthlyCost, forKey: .monthlyCost)
                try container.encode(breakEvenRate, forKey: .breakEvenRate)
                try container.encode(coldStartProbability, forKey: .coldStartProbability)
                try container.encode(functionP99Seconds, forKey: .functionP99Seconds)
                try container.encode(latencySLOSeconds, forKey: .latencySLOSeconds)
                try container.encode(replicas, forKey: .replicas)
                try container.encode(provisionedEnvironments, forKey: .provisionedEnvironments)
                try container.encode(fitsMachine, forKey: .fitsMachine)
                try container.encode(hardRule, forKey: .hardRule)
                try container.encode(violation, forKey: .violation)
                try container.encode(reason, forKey: .reason)
                try container.encode(reasons, forKey: .reasons)
            }

            enum CodingKeys: String, CodingKey {
                case name, mode, option, monthlyCost, breakEvenRate, coldStartProbability
                case functionP99Seconds, latencySLOSeconds, replicas, provisionedEnvironments
                case fitsMachine, hardRule, violation, reason, reasons
            }
        }

        var workloads: [Workload]
    }
}
