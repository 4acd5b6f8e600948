import Foundation

extension EngineClient {
    /// Builds an image from a context folder, sending the folder as a tar that is
    /// produced while it is uploaded (never held in memory whole). Each progress line
    /// goes to `progress`; a build error becomes an ``EngineError`` with code
    /// `buildFailed` carrying the engine's message.
    /// Maps to `POST /build`.
    /// - Returns: the image id (`sha256:…`).
    @discardableResult
    public func buildImage(
        contextDirectory: URL, options: BuildOptions = BuildOptions(),
        progress: (@Sendable (BuildMessage) -> Void)? = nil
    ) async throws -> String {
        let operation = "POST /build"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: contextDirectory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EngineError(.invalidArgument, operation: operation, message: "no context folder at \(contextDirectory.path)")
        }
        var query = Query()
        for tag in options.tags { query.add("t", tag) }
        query.add("dockerfile", options.dockerfile)
        query.add("rm", options.removeIntermediate)
        query.add("forcerm", options.removeIntermediate)
        if options.noCache { query.add("nocache", true) }
        if !options.buildArgs.isEmpty { query.add("buildargs", try jsonObject(options.buildArgs, operation: operation)) }
        if !options.labels.isEmpty { query.add("labels", try jsonObject(options.labels, operation: operation)) }

        let body = HTTPRequestBody.stream(length: nil) { writer in
            try await TarWriter.archive(directory: contextDirectory) { try await writer.write($0) }
        }
        let response = try await openStream(
            "POST", "/build", query: query, body: body, headers: [HTTPHeader("Content-Type", "application/x-tar")])

        var splitter = JSONLineSplitter()
        var imageID: String?
        var lastOutput = ""
        func handle(_ line: [UInt8]) throws {
            guard let message = try? decoder.decode(BuildMessage.self, from: Data(line)) else {
                throw EngineError(.decoding, operation: operation, status: response.status,
                                  message: "unreadable progress line: \(String(decoding: line.prefix(300), as: UTF8.self))")
            }
            progress?(message)
            if let error = message.error ?? message.errorDetail?.message {
                throw EngineError(.buildFailed, operation: operation, status: response.status, message: error)
            }
            if let id = message.aux?.id { imageID = id }
            if let stream = message.stream {
                lastOutput = stream
                if stream.hasPrefix("Successfully built "), imageID == nil {
                    imageID = stream.dropFirst("Successfully built ".count).trimmingCharacters(in: .whitespacesAndNewlines)
                }
            }
        }
        do {
            for try await chunk in response.body {
                for line in splitter.feed(chunk) { try handle(line) }
            }
            if let last = splitter.finish() { try handle(last) }
        } catch let error as EngineError {
            throw error
        } catch {
            throw mapTransportError(error, operation: operation)
        }
        guard let imageID else {
            throw EngineError(.decoding, operation: operation, status: response.status,
                              message: "the build ended without an image id (last output: \(lastOutput))")
        }
        return imageID
    }

    private func jsonObject(_ dictionary: [String: String], operation: String) throws -> String {
        String(decoding: try encode(dictionary, operation: operation), as: UTF8.self)
    }

    /// Image details.
    /// Maps to `GET /images/{name}/json`.
    public func inspectImage(_ name: String) async throws -> ImageInspect {
        try await get("/images/\(Self.imageSegment(name))/json", route: "/images/{name}/json")
    }

    /// Lists images, optionally filtered (e.g. `["reference": ["tandem/*"]]`, `["label": ["a=b"]]`).
    /// Maps to `GET /images/json`.
    public func listImages(filters: [String: [String]] = [:]) async throws -> [ImageSummary] {
        var query = Query()
        query.add("filters", Self.filtersJSON(filters))
        return try await get("/images/json", query: query)
    }

    /// Adds a tag (`repository:tag`) to an image.
    /// Maps to `POST /images/{name}/tag?repo=&tag=`.
    public func tagImage(_ name: String, repository: String, tag: String = "latest") async throws {
        var query = Query()
        query.add("repo", repository)
        query.add("tag", tag)
        try await postExpectingNoContent("/images/\(Self.imageSegment(name))/tag", route: "/images/{name}/tag", query: query)
    }

    /// Removes an image (or one of its tags).
    /// Maps to `DELETE /images/{name}?force=&noprune=`.
    @discardableResult
    public func removeImage(_ name: String, force: Bool = false, noPrune: Bool = false) async throws -> [ImageDeleteItem] {
        var query = Query()
        query.add("force", force)
        query.add("noprune", noPrune)
        let response = try await send("DELETE", "/images/\(Self.imageSegment(name))", route: "/images/{name}", query: query)
        return try decode([ImageDeleteItem].self, from: response, operation: "DELETE /images/{name}")
    }

    /// Image references keep their `/` (the engine's route takes the rest of the path).
    static func imageSegment(_ name: String) -> String {
        name.split(separator: "/", omittingEmptySubsequences: false).map { Query.escape(String($0)) }.joined(separator: "/")
    }
}
