/// Durable state in SQLite.
public enum StoreInfo {
    public static let fileName = "tandem.sqlite"
}
