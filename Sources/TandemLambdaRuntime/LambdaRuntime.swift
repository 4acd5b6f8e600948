/// A client of the AWS Lambda Runtime API (2018-06-01) for functions in images
/// built FROM scratch.
public enum LambdaRuntimeAPI {
    /// The API version segment of every Runtime API path.
    public static let version = "2018-06-01"
}
