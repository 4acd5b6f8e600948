import GRDB

/// One placement decision or switch for a workload (table `placement`), for `tandem explain`.
public struct PlacementRecord: Codable, Sendable, Hashable {
    public var workload: String
    /// When the decision was taken, ms since the epoch.
    public var at: Int64
    /// The mode before; `nil` for the first placement.
    public var fromMode: RunMode?
    public var toMode: RunMode
    /// Why, with figures, as the placement explanation phrased it.
    public var reason: String

    public init(workload: String, at: Int64, fromMode: RunMode?, toMode: RunMode, reason: String) {
        self.workload = workload
        self.at = at
        self.fromMode = fromMode
        self.toMode = toMode
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey, ColumnExpression {
        case workload, at
        case fromMode = "from_mode"
        case toMode = "to_mode"
        case reason
    }
}

extension PlacementRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "placement"
}
