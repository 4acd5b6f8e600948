import FuzzSupport
import Manifest

// The manifest parser: any bytes, decoded as ManifestLoader decodes a file,
// parsed and validated. Every input must give a manifest or diagnostics.

func fuzzOne(_ bytes: [UInt8]) {
    guard let text = String(validating: bytes, as: UTF8.self) else { return }
    switch ManifestParser.parse(text: text, fileName: "fuzz.yaml") {
    case .success(let manifest):
        _ = manifest.workloads.count
    case .failure(let errors):
        precondition(!errors.diagnostics.isEmpty, "a failed parse gave no diagnostic")
        _ = errors.description
    }
}

@main enum Main {
    static func main() { FuzzReplay.main(fuzzOne) }
}
