/// The region and account tandem answers as: every function's ARN is
/// `arn:aws:lambda:REGION:ACCOUNT:function:NAME`.
public struct LambdaAccount: Sendable, Equatable {
    public var region: String
    public var account: String

    public init(region: String = "us-east-1", account: String = "000000000000") {
        self.region = region
        self.account = account
    }

    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.
    public func functionARN(_ name: String, qualifier: String? = nil) -> String {
        "arn:aws:lambda:\(region):\(account):function:\(name)" + (qualifier.map { ":\($0)" } ?? "")
    }
}

/// A function as the Invoke API names it: a name, `NAME:QUALIFIER`, a partial
/// ARN `ACCOUNT:function:NAME[:QUALIFIER]` or a full ARN
/// `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.
public struct FunctionReference: Sendable, Equatable {
    public var name: String
    /// A region named in the reference (full ARN).
    public var region: String?
    /// An account named in the reference (full or partial ARN).
    public var account: String?
    /// A version or alias after the name.
    public var qualifier: String?

    public init(name: String, region: String? = nil, account: String? = nil, qualifier: String? = nil) {
        self.name = name
        self.region = region
        self.account = account
        self.qualifier = qualifier
    }

    /// AWS's pattern for `FunctionName` in Invoke, as the validation message shows it.
    static let pattern =
        #"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"#

    /// Parses a (decoded) `FunctionName`, following AWS's pattern and lengths
    /// (1–256 characters; a plain name at most 64).
    public static func parse(_ text: String) -> Result<FunctionReference, LambdaAPIError> {
        var invalid: LambdaAPIError {
            .validation("1 validation error detected: Value '\(text)' at 'functionName' failed to satisfy constraint: "
                + "Member must satisfy regular expression pattern: \(pattern)")
        }
        guard !text.isEmpty, text.utf8.count <= 256 else {
            return .failure(.validation(
                "1 validation error detected: Value '\(text)' at 'functionName' failed to satisfy constraint: "
                    + "Member must have length \(text.isEmpty ? "greater than or equal to 1" : "less than or equal to 256")"))
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var index = 0
        var reference = FunctionReference(name: "")
        var arnForm = false
        var remaining: Int { parts.count - index }
        if parts[0] == "arn" {
            guard parts.count >= 4, isPartition(parts[1]), parts[2] == "lambda" else { return .failure(invalid) }
            index = 3
            arnForm = true
        }
        if remaining >= 2, isRegion(parts[index]) {
            reference.region = String(parts[index])
            index += 1
        }
        if remaining >= 2, isAccount(parts[index]) {
            reference.account = String(parts[index])
            index += 1
        }
        if remaining >= 2, parts[index] == "function" {
            index += 1
            arnForm = true
        }
        guard remaining >= 1, isName(parts[index]) else { return .failure(invalid) }
        reference.name = String(parts[index])
        index += 1
        if remaining >= 1 {
            guard isQualifier(parts[index]) else { return .failure(invalid) }
            reference.qualifier = String(parts[index])
            index += 1
        }
        guard remaining == 0 else { return .failure(invalid) }
        let namedAlone = !arnForm && reference.region == nil && reference.account == nil
        if namedAlone, reference.name.utf8.count > 64 {
            return .failure(.validation(
                "1 validation error detected: Value '\(text)' at 'functionName' failed to satisfy constraint: "
                    + "Member must have length less than or equal to 64"))
        }
        return .success(reference)
    }

    /// `aws`, `aws-cn`, `aws-us-gov`, … or empty.
    static func isPartition(_ part: Substring) -> Bool {
        part.isEmpty || (part.hasPrefix("aws") && part.utf8.allSatisfy { isASCIILetter($0) || $0 == UInt8(ascii: "-") })
    }

    /// `us-east-1`, `us-gov-west-1`, `us-isob-east-1`: two letters, an optional
    /// `-gov`/`-iso[x]`, a word, one digit.
    static func isRegion(_ part: Substring) -> Bool {
        var words = part.split(separator: "-", omittingEmptySubsequences: false)
        guard words.count >= 3, words.count <= 4,
              words[0].utf8.count == 2, words[0].utf8.allSatisfy(isLowercase),
              let last = words.last, last.utf8.count == 1, last.utf8.allSatisfy(isDigit)
        else { return false }
        if words.count == 4 {
            let extra = words.remove(at: 1)
            guard extra == "gov" || (extra.hasPrefix("iso") && extra.utf8.count <= 4 && extra.utf8.allSatisfy(isLowercase)) else {
                return false
            }
        }
        return !words[1].isEmpty && words[1].utf8.allSatisfy(isLowercase)
    }

    static func isAccount(_ part: Substring) -> Bool {
        part.utf8.count == 12 && part.utf8.allSatisfy(isDigit)
    }

    static func isName(_ part: Substring) -> Bool {
        !part.isEmpty && part.utf8.allSatisfy { isASCIILetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    static func isQualifier(_ part: Substring) -> Bool {
        part == "$LATEST" || part == "$LATEST.PUBLISHED"
            || (!part.isEmpty && part.utf8.allSatisfy { isASCIILetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") })
    }

    private static func isLowercase(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    private static func isASCIILetter(_ byte: UInt8) -> Bool { isLowercase(byte | 0x20) }
}
