#if canImport(FoundationEssentials)
import FoundationEssentials

extension LambdaRuntime {
    /// Serves a handler of JSON values: the event is decoded as `Event` and the
    /// result encoded as JSON.
    ///
    /// ```swift
    /// struct Input: Decodable { var name: String }
    /// struct Output: Encodable { var greeting: String }
    /// LambdaRuntime.run { (event: Input, context: LambdaContext) throws -> Output in
    ///     Output(greeting: "hello \(event.name)")
    /// }
    /// ```
    public static func run<Event: Decodable, Output: Encodable>(
        _ handler: @escaping (_ event: Event, _ context: LambdaContext) throws -> Output
    ) -> Never {
        run(initializer: { handler })
    }

    /// Calls `initializer` once, then serves the JSON handler it returns; see
    /// ``run(initializer:)-(()->Handler)`` for what happens when it throws.
    public static func run<Event: Decodable, Output: Encodable>(
        initializer: () throws -> (_ event: Event, _ context: LambdaContext) throws -> Output
    ) -> Never {
        run(initializer: { () throws -> Handler in
            codingHandler(try initializer())
        })
    }

    /// Wraps a handler of Codable values into one of bytes.
    static func codingHandler<Event: Decodable, Output: Encodable>(
        _ handler: @escaping (Event, LambdaContext) throws -> Output
    ) -> Handler {
        let decoder = JSONDecoder()
        let encoder = JSONEncoder()
        return { bytes, context in
            let event = try decoder.decode(Event.self, from: Data(bytes))
            return [UInt8](try encoder.encode(try handler(event, context)))
        }
    }
}
#endif
