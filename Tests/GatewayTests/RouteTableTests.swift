import Testing
@testable import Gateway

@Suite("http route matching")
struct RouteTableTests {
    static let table: RouteTable = {
        let routes = [
            GatewayRoute(path: "/{proxy+}", target: .function("fallback")),
            GatewayRoute(methods: ["GET"], path: "/items", target: .function("list")),
            GatewayRoute(methods: ["POST"], path: "/items", target: .function("create")),
            GatewayRoute(path: "/items/{id}", target: .function("item-any")),
            GatewayRoute(methods: ["GET"], path: "/items/{id}", target: .function("item-get")),
            GatewayRoute(methods: ["GET"], path: "/items/special", target: .function("special")),
            GatewayRoute(path: "/items/{id}/{rest+}", target: .function("item-rest")),
            GatewayRoute(methods: ["get", "HEAD"], path: "/files/{key+}", target: .function("files")),
            GatewayRoute(path: "/", target: .function("root")),
        ]
        do { return try RouteTable(routes) } catch { preconditionFailure("\(error)") }
    }()

    func target(_ method: String, _ path: String) -> String? {
        guard case .function(let name)? = Self.table.match(method: method, path: path)?.route.target else { return nil }
        return name
    }

    @Test("the most specific route wins", arguments: [
        ("GET", "/items", "list"),
        ("POST", "/items", "create"),
        ("DELETE", "/items", "fallback"),
        ("GET", "/items/42", "item-get"),
        ("PUT", "/items/42", "item-any"),
        ("GET", "/items/special", "special"),
        ("PUT", "/items/special", "item-any"),
        ("GET", "/items/42/a/b", "item-rest"),
        ("GET", "/files/a/b/c.txt", "files"),
        ("HEAD", "/files/a", "files"),
        ("POST", "/files/a", "fallback"),
        ("GET", "/", "root"),
        ("GET", "/anything/else", "fallback"),
        ("GET", "/items/", "list"),
    ])
    func precedence(method: String, path: String, expected: String) {
        #expect(target(method, path) == expected, "\(method) \(path)")
    }

    @Test("parameters are decoded; a greedy one takes the rest of the path")
    func parameters() throws {
        let item = try #require(Self.table.match(method: "GET", path: "/items/a%20b"))
        #expect(item.pathParameters.map(\.name) == ["id"])
        #expect(item.pathParameters.map(\.value) == ["a b"])
        #expect(item.routeKey == "GET /items/{id}")
        let rest = try #require(Self.table.match(method: "PATCH", path: "/items/7/x/y%2Fz"))
        #expect(rest.pathParameters.map(\.value) == ["7", "x/y/z"])
        #expect(rest.routeKey == "ANY /items/{id}/{rest+}")
        let files = try #require(Self.table.match(method: "GET", path: "/files/dir/photo.jpg"))
        #expect(files.pathParameters.first?.value == "dir/photo.jpg")
        #expect(files.routeKey == "GET /files/{key+}")
    }

    @Test("without a catch-all, unmatched paths and methods find nothing")
    func noMatch() throws {
        let table = try RouteTable([GatewayRoute(methods: ["GET"], path: "/hello", target: .function("f"))])
        #expect(table.match(method: "GET", path: "/hello") != nil)
        #expect(table.match(method: "POST", path: "/hello") == nil)
        #expect(table.match(method: "GET", path: "/hello/there") == nil)
        #expect(table.match(method: "GET", path: "/") == nil)
        #expect(RouteTable().match(method: "GET", path: "/") == nil)
        // A greedy parameter needs at least one segment.
        let greedy = try RouteTable([GatewayRoute(path: "/static/{p+}", target: .function("f"))])
        #expect(greedy.match(method: "GET", path: "/static") == nil)
    }

    static let methodCases: [(Set<String>?, Set<String>?)] = [
        (nil, nil),
        ([], nil),
        (["ANY"], nil),
        (["get", "Post"], ["GET", "POST"]),
    ]

    @Test("ANY, an empty method list and lower-case methods", arguments: methodCases)
    func methods(given: Set<String>?, normalized: Set<String>?) {
        #expect(GatewayRoute(methods: given, path: "/", target: .function("f")).methods == normalized)
    }

    @Test("malformed, reserved and clashing routes are refused", arguments: [
        ["items"],
        ["/a/{proxy+}/b"],
        ["/a/{}"],
        ["/a/x{id}"],
        ["/a/{id}/{id}"],
        ["/2015-03-31/functions/x/invocations"],
        ["/2015-03-31/{proxy+}"],
        ["/items/{id}", "/items/{key}"],
        ["/x", "/x/"],
    ])
    func refused(paths: [String]) {
        #expect(throws: RouteTableError.self) {
            try RouteTable(paths.map { GatewayRoute(path: $0, target: .function("f")) })
        }
    }

    @Test("one path may be split between methods, and ANY may sit beside a method")
    func splitMethods() throws {
        let table = try RouteTable([
            GatewayRoute(methods: ["GET"], path: "/x/{id}", target: .function("a")),
            GatewayRoute(methods: ["POST"], path: "/x/{key}", target: .function("b")),
        ])
        #expect(table.match(method: "POST", path: "/x/1")?.route.target == .function("b"))
        #expect(throws: RouteTableError.self) {
            try RouteTable([
                GatewayRoute(methods: ["GET", "PUT"], path: "/x", target: .function("a")),
                GatewayRoute(methods: ["PUT"], path: "/x", target: .function("b")),
            ])
        }
        let beside = try RouteTable([
            GatewayRoute(path: "/x", target: .function("any")),
            GatewayRoute(methods: ["GET"], path: "/x", target: .function("get")),
        ])
        #expect(beside.match(method: "GET", path: "/x")?.route.target == .function("get"))
        #expect(beside.match(method: "PUT", path: "/x")?.route.target == .function("any"))
    }
}
