/// The HTTP front door of tandem.
public enum GatewayInfo {
    public static let defaultAddress = "127.0.0.1:8080"
}
