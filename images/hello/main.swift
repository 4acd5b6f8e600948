// The smallest tandem image: a static Swift binary in an image built FROM scratch.
// It greets whoever is named in its arguments or $NAME, then exits 0.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

let arguments = CommandLine.arguments.dropFirst()
let name: String
if !arguments.isEmpty {
    name = arguments.joined(separator: " ")
} else if let fromEnvironment = getenv("NAME").map({ String(cString: $0) }), !fromEnvironment.isEmpty {
    name = fromEnvironment
} else {
    name = "world"
}
print("hello, \(name), from tandem (pid \(getpid()), uid \(getuid()))")
