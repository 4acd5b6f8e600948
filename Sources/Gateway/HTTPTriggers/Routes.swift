/// Where an http route sends its requests.
public enum RouteTarget: Sendable, Hashable {
    /// A function with the lambda contract, invoked with an API Gateway HTTP
    /// API event (payload format 2.0).
    case function(String)
    /// A service (by workload name): its requests are proxied to its ready
    /// replicas, as the ``UpstreamRegistry`` lists them.
    case service(String)
}

/// One http trigger, as the controller hands it to the gateway.
public struct GatewayRoute: Sendable, Hashable {
    /// Upper-case methods; nil: any method (`ANY`).
    public var methods: Set<String>?
    /// A path template like API Gateway's: `/items`, `/items/{id}`, `/files/{proxy+}`.
    public var path: String
    public var target: RouteTarget

    public init(methods: Set<String>? = nil, path: String, target: RouteTarget) {
        self.methods = methods.map { Set($0.map { $0.uppercased() }) }
        if let methods = self.methods, methods.isEmpty || methods.contains("ANY") { self.methods = nil }
        self.path = path
        self.target = target
    }
}

/// Why a set of routes cannot be served.
public struct RouteTableError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "route \(path): \(message)" }
}

/// A route that matched a request.
public struct RouteMatch: Sendable, Equatable {
    public var route: GatewayRoute
    /// `{name}` values (percent-decoded), in template order; `{proxy+}` gives the rest of the path.
    public var pathParameters: [(name: String, value: String)]
    /// API Gateway's `routeKey`: `GET /items/{id}` (or `ANY /items/{id}`).
    public var routeKey: String

    public static func == (lhs: RouteMatch, rhs: RouteMatch) -> Bool {
        lhs.route == rhs.route && lhs.routeKey == rhs.routeKey
            && lhs.pathParameters.map(\.name) == rhs.pathParameters.map(\.name)
            && lhs.pathParameters.map(\.value) == rhs.pathParameters.map(\.value)
    }
}

/// Routes, matched like API Gateway HTTP APIs: the most specific route wins —
/// segment by segment, a literal beats a `{param}`, which beats a greedy
/// `{proxy+}`; at equal paths, a route with the request's method beats `ANY`.
/// The Lambda API's paths (`/2015-03-31/…`) are reserved.
public struct RouteTable: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
        case greedy(String)

        var rank: Int {
            switch self {
            case .literal: 0
            case .parameter: 1
            case .greedy: 2
            }
        }
    }

    struct Compiled: Sendable {
        var route: GatewayRoute
        var segments: [Segment]
        var template: String
    }

    /// Most specific first.
    let compiled: [Compiled]
    /// Some route goes to a service: the gateway's HTTP/1 handler looks for
    /// them (``service(method:path:)``) before the request is converted.
    let hasServices: Bool

    public var routes: [GatewayRoute] { compiled.map(\.route) }
    public var isEmpty: Bool { compiled.isEmpty }

    public init() {
        compiled = []
        hasServices = false
    }

    /// Checks and orders routes: templates must be well formed, outside the
    /// Lambda API's paths, and two routes may not share a path and a method
    /// (or both be `ANY`).
    public init(_ routes: [GatewayRoute]) throws(RouteTableError) {
        var compiled: [Compiled] = []
        for route in routes {
            let entry = try Self.compile(route)
            if let clash = compiled.first(where: { $0.segments.map(\.rank) == entry.segments.map(\.rank)
                && Self.sameShape($0.segments, entry.segments) && Self.overlap($0.route.methods, route.methods) }) {
                throw RouteTableError(path: route.path, message: "clashes with route \(clash.route.path) (same path, overlapping methods)")
            }
            compiled.append(entry)
        }
        // A stable sort: equally specific routes keep their order.
        self.compiled = compiled.enumerated().sorted { a, b in
            if let order = Self.compare(a.element, b.element) { return order }
            return a.offset < b.offset
        }.map(\.element)
        self.hasServices = compiled.contains { if case .service = $0.route.target { true } else { false } }
    }

    /// The most specific route for a request, or nil (API Gateway answers 404).
    /// - Parameter path: the request path without the query, as sent.
    public func match(method: String, path: String) -> RouteMatch? {
        guard !compiled.isEmpty else { return nil }
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        for entry in compiled {
            if let methods = entry.route.methods, !methods.contains(method) { continue }
            if let parameters = Self.bind(entry.segments, to: segments) {
                let routeKey = (entry.route.methods == nil ? "ANY" : method) + " " + entry.template
                return RouteMatch(route: entry.route, pathParameters: parameters, routeKey: routeKey)
            }
        }
        return nil
    }

    /// The service the most specific route for a request goes to; nil when
    /// that route goes to a function, or no route matches. Like
    /// ``match(method:path:)``, without binding the parameters.
    func service(method: String, path: Substring) -> String? {
        guard hasServices else { return nil }
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        for entry in compiled {
            if let methods = entry.route.methods, !methods.contains(method) { continue }
            guard Self.fits(entry.segments, segments) else { continue }
            if case .service(let name) = entry.route.target { return name }
            return nil
        }
        return nil
    }

    // MARK: - Compiling and comparing

    static func compile(_ route: GatewayRoute) throws(RouteTableError) -> Compiled {
        let path = route.path
        guard path.hasPrefix("/") else { throw RouteTableError(path: path, message: "a route path starts with /") }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        if let first = parts.first, "/" + first + "/" == LambdaInvokeAPI.prefix {
            throw RouteTableError(path: path, message: "\(LambdaInvokeAPI.prefix) is reserved for the Lambda Invoke API")
        }
        var segments: [Segment] = []
        var names: Set<String> = []
        for (index, part) in parts.enumerated() {
            if part.hasPrefix("{") || part.hasSuffix("}") {
                guard part.hasPrefix("{"), part.hasSuffix("}"), part.count > 2 else {
                    throw RouteTableError(path: path, message: "a parameter is a whole segment: {name}")
                }
                var name = String(part.dropFirst().dropLast())
                let greedy = name.hasSuffix("+")
                if greedy { name.removeLast() }
                guard !name.isEmpty, !name.contains("{"), !name.contains("}"), !name.contains("+") else {
                    throw RouteTableError(path: path, message: "malformed parameter \(part)")
                }
                guard names.insert(name).inserted else {
                    throw RouteTableError(path: path, message: "parameter {\(name)} appears twice")
                }
                if greedy {
                    guard index == parts.count - 1 else {
                        throw RouteTableError(path: path, message: "a greedy parameter {\(name)+} must be the last segment")
                    }
                    segments.append(.greedy(name))
                } else {
                    segments.append(.parameter(name))
                }
            } else {
                segments.append(.literal(Percent.decodeLeniently(part)))
            }
        }
        let template = "/" + segments.map { segment in
            switch segment {
            case .literal(let text): text
            case .parameter(let name): "{\(name)}"
            case .greedy(let name): "{\(name)+}"
            }
        }.joined(separator: "/")
        return Compiled(route: route, segments: segments, template: template)
    }

    /// True when `a` is more specific than `b`, false when less, nil when equal.
    static func compare(_ a: Compiled, _ b: Compiled) -> Bool? {
        for (left, right) in zip(a.segments, b.segments) where left.rank != right.rank {
            return left.rank < right.rank
        }
        if a.segments.count != b.segments.count {
            // The longer one has more literal/parameter segments before any greedy tail.
            return a.segments.count > b.segments.count
        }
        let aAny = a.route.methods == nil
        let bAny = b.route.methods == nil
        if aAny != bAny { return !aAny }
        return nil
    }

    /// The same path once parameter names are ignored.
    static func sameShape(_ a: [Segment], _ b: [Segment]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { left, right in
            switch (left, right) {
            case (.literal(let x), .literal(let y)): x == y
            case (.parameter, .parameter), (.greedy, .greedy): true
            default: false
            }
        }
    }

    /// Two `ANY` routes, or two sharing a method, clash; `ANY` beside a
    /// method-specific route does not (the specific one wins its method).
    static func overlap(_ a: Set<String>?, _ b: Set<String>?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return !a.isDisjoint(with: b)
    }

    /// True when `path` matches `template` (what ``bind(_:to:)`` checks).
    static func fits(_ template: [Segment], _ path: [Substring]) -> Bool {
        for (index, segment) in template.enumerated() {
            guard index < path.count else { return false }
            switch segment {
            case .literal(let text):
                guard Percent.decodeLeniently(path[index]) == text else { return false }
            case .parameter:
                continue
            case .greedy:
                return true
            }
        }
        return path.count == template.count
    }

    static func bind(_ template: [Segment], to path: [Substring]) -> [(name: String, value: String)]? {
        var parameters: [(name: String, value: String)] = []
        for (index, segment) in template.enumerated() {
            switch segment {
            case .literal(let text):
                guard index < path.count, Percent.decodeLeniently(path[index]) == text else { return nil }
            case .parameter(let name):
                guard index < path.count else { return nil }
                parameters.append((name, Percent.decodeLeniently(path[index])))
            case .greedy(let name):
                guard index < path.count else { return nil }
                parameters.append((name, Percent.decodeLeniently(path[index...].joined(separator: "/"))))
                return parameters
            }
        }
        return path.count == template.count ? parameters : nil
    }
}
