import Foundation

extension EngineClient {
    /// Decodes a stream of newline-separated JSON documents (events, stats
    /// samples) as they arrive; ending the result ends the transfer.
    func decodedLines<T: Decodable & Sendable>(
        _ body: TransferStream<[UInt8]>, as type: T.Type, operation: String
    ) -> TransferStream<T> {
        let decoder = self.decoder
        let (stream, continuation) = AsyncThrowingStream<T, any Error>.makeStream()
        let task = Task {
            var splitter = JSONLineSplitter()
            func emit(_ line: [UInt8]) throws {
                do {
                    continuation.yield(try decoder.decode(T.self, from: Data(line)))
                } catch {
                    throw EngineError(
                        .decoding, operation: operation,
                        message: "cannot decode \(T.self): \(String(decoding: line.prefix(300), as: UTF8.self))",
                        underlying: error)
                }
            }
            do {
                for try await chunk in body {
                    for line in splitter.feed(chunk) { try emit(line) }
                }
                if let last = splitter.finish() { try emit(last) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return TransferStream(stream, stop: { task.cancel(); body.cancel() })
    }
}
