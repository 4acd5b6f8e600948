import Foundation

/// How figures are written in reasons, tables and explanations. Fixed
/// formats (no locale), so the output is the same on every machine.
enum Format {
    /// `$1.03`; `<$0.01` for a cost under half a cent that is not zero.
    public static func money(_ dollars: Double) -> String {
        guard dollars.isFinite else { return "-" }
        if dollars > 0 && dollars < 0.005 { return "<$0.01" }
        return "$" + grouped(String(format: "%.2f", dollars))
    }

    /// A unit price with enough digits: `$0.0000166667`.
    public static func price(_ dollars: Double) -> String {
        guard dollars.isFinite else { return "-" }
        var text = String(format: "%.10f", dollars)
        while text.hasSuffix("0"), !text.hasSuffix(".0") { text.removeLast() }
        if text.hasSuffix(".0") { text.removeLast(2) }
        return "$" + text
    }

    /// A rate in requests per second: `0.4`, `3.32`, `12.5`, `1,200`.
    public static func rate(_ perSecond: Double) -> String {
        number(perSecond)
    }

    /// A plain number with about three significant digits, no exponent.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return value > 0 ? "∞" : "-" }
        let magnitude = abs(value)
        let text: String
        if magnitude == 0 {
            text = "0"
        } else if magnitude >= 100 {
            text = grouped(String(format: "%.0f", value))
        } else if magnitude >= 10 {
            text = String(format: "%.1f", value)
        } else if magnitude >= 1 {
            text = String(format: "%.2f", value)
        } else if magnitude >= 0.001 {
            text = String(format: "%.3f", value)
        } else {
            text = String(format: "%.2g", value)
        }
        return trimmed(text)
    }

    /// A whole count with thousands separators: `1,051,200`.
    public static func count(_ value: Double) -> String {
        guard value.isFinite else { return "∞" }
        return grouped(String(format: "%.0f", value))
    }

    /// A probability as a percentage: `4.5%`, `0.01%`, `<0.01%`, `100%`.
    public static func percent(_ probability: Double) -> String {
        let value = probability * 100
        if value == 0 { return "0%" }
        if value < 0.01 { return "<0.01%" }
        if value >= 99.995 { return "100%" }
        if value < 1 { return trimmed(String(format: "%.2f", value)) + "%" }
        return trimmed(String(format: "%.1f", value)) + "%"
    }

    /// A duration: `250ms`, `1.5s`, `15m`, `2h`.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "∞" }
        if seconds < 1 { return trimmed(String(format: "%.1f", seconds * 1000)) + "ms" }
        if seconds < 60 { return trimmed(String(format: "%.2f", seconds)) + "s" }
        if seconds < 3600 { return trimmed(String(format: "%.1f", seconds / 60)) + "m" }
        return trimmed(String(format: "%.1f", seconds / 3600)) + "h"
    }

    /// Memory: `512 MiB`, `1.5 GiB`.
    public static func memory(mebibytes: Double) -> String {
        if mebibytes < 1024 { return trimmed(String(format: "%.0f", mebibytes)) + " MiB" }
        return trimmed(String(format: "%.1f", mebibytes / 1024)) + " GiB"
    }

    /// GB for Fargate and Lambda sizes: `0.5`, `2`, `0.125`.
    public static func gigabytes(_ value: Double) -> String {
        trimmed(String(format: "%.4f", value))
    }

    /// Drops trailing zeros after a decimal point: `1.50` → `1.5`, `2.0` → `2`.
    static func trimmed(_ text: String) -> String {
        guard text.contains("."), !text.contains("e") else { return text }
        var text = text
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// Inserts thousands separators into the integer part: `1234567.5` → `1,234,567.5`.
    static func grouped(_ text: String) -> String {
        var integer = Substring(text)
        var rest = Substring("")
        if let dot = text.firstIndex(of: ".") {
            integer = text[..<dot]
            rest = text[dot...]
        }
        var sign = ""
        if integer.hasPrefix("-") {
            sign = "-"
            integer = integer.dropFirst()
        }
        guard integer.count > 3 else { return text }
        var out: [Character] = []
        for (index, character) in integer.reversed().enumerated() {
            if index > 0 && index % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return sign + String(out.reversed()) + rest
    }
}
