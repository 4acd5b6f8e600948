import CCurl
import Foundation
import Logging
import Synchronization

/// libcurl's global initialisation, done once per process before any handle exists.
enum CurlGlobal {
    static let initialised: CurlError? = {
        let code = curl_global_init(tandem_global_all())
        guard code == CURLE_OK else {
            return CurlError(call: "curl_global_init", code: Int(code.rawValue), detail: String(cString: curl_easy_strerror(code)))
        }
        return nil
    }()
}

/// The curl thread: one `curl_multi` handle driving every transfer, fed through a
/// lock-protected command queue and `curl_multi_wakeup`. Only this thread touches
/// the multi handle and the easy handles; callers only enqueue commands.
final class CurlLoop: @unchecked Sendable {
    private struct Commands {
        var start: [CurlTransfer] = []
        var cancel: [CurlTransfer] = []
        var unpause: [CurlTransfer] = []
        var shuttingDown = false
    }

    private let commands = Mutex(Commands())
    private let multi: UnsafeMutableRawPointer
    private let logger: Logger
    private let connectTimeoutMilliseconds: Int
    let connectionsOpened = Atomic<Int>(0)
    let transfersCompleted = Atomic<Int>(0)

    // Curl thread only.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []
    private let maxIdleHandles = 32
    /// `TANDEM_CURL_VERBOSE=1` makes curl trace every transfer on stderr.
    private let verbose = ProcessInfo.processInfo.environment["TANDEM_CURL_VERBOSE"] == "1"

    init(connectTimeout: Duration, logger: Logger) throws(CurlError) {
        if let error = CurlGlobal.initialised { throw error }
        guard let multi = curl_multi_init() else {
            throw CurlError(call: "curl_multi_init", code: -1, detail: "returned NULL")
        }
        self.multi = multi
        self.logger = logger
        let ms = connectTimeout.components.seconds * 1000 + connectTimeout.components.attoseconds / 1_000_000_000_000_000
        self.connectTimeoutMilliseconds = max(1, Int(ms))
        // Keep plenty of idle connections for reuse.
        try curlCheck(tandem_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, 64), "curl_multi_setopt(CURLMOPT_MAXCONNECTS)")
        let thread = Thread { [self] in self.run() }
        thread.name = "tandem-curl"
        thread.start()
    }

    func submit(_ transfer: CurlTransfer) {
        let accepted = commands.withLock { commands in
            guard !commands.shuttingDown else { return false }
            commands.start.append(transfer)
            return true
        }
        if accepted {
            curl_multi_wakeup(multi)
        } else {
            transfer.finish(.failure(CurlError(call: "submit \(transfer.description)", code: -1, detail: "the HTTP client was shut down")))
        }
    }

    func cancel(_ transfer: CurlTransfer) {
        transfer.markCancelled()
        commands.withLock { $0.cancel.append(transfer) }
        curl_multi_wakeup(multi)
    }

    func unpause(_ transfer: CurlTransfer) {
        commands.withLock { $0.unpause.append(transfer) }
        curl_multi_wakeup(multi)
    }

    func shutdown() {
        commands.withLock { $0.shuttingDown = true }
        curl_multi_wakeup(multi)
    }

    // MARK: curl thread

    private func run() {
        while true {
            let batch = commands.withLock { commands in
                defer {
                    commands.start.removeAll()
                    commands.cancel.removeAll()
                    commands.unpause.removeAll()
                }
                return commands
            }
            for transfer in batch.start { start(transfer) }
            for transfer in batch.cancel {
                if let handle = transfer.handle, active[handle] === transfer {
                    complete(handle, .failure(transfer.stopError))
                }
            }
            for transfer in batch.unpause {
                if let handle = transfer.handle, active[handle] === transfer {
                    let code = curl_easy_pause(handle, tandem_pause_cont())
                    if code != CURLE_OK {
                        complete(handle, .failure(CurlError(
                            call: "curl_easy_pause(\(transfer.description))", code: Int(code.rawValue),
                            detail: String(cString: curl_easy_strerror(code)))))
                    }
                }
            }
            if batch.shuttingDown {
                for (handle, _) in active {
                    complete(handle, .failure(CurlError(call: "curl loop", code: -1, detail: "the HTTP client was shut down")))
                }
                // Refuse whatever arrived meanwhile.
                let late = commands.withLock { commands in
                    defer { commands.start.removeAll() }
                    return commands.start
                }
                for transfer in late {
                    transfer.finish(.failure(CurlError(call: "submit \(transfer.description)", code: -1, detail: "the HTTP client was shut down")))
                }
                break
            }

            var running: Int32 = 0
            let performed = curl_multi_perform(multi, &running)
            if performed != CURLM_OK {
                logger.error("curl_multi_perform failed", metadata: ["curl.code": "\(performed.rawValue)"])
            }
            readMessages()
            let polled = curl_multi_poll(multi, nil, 0, 1000, nil)
            if polled != CURLM_OK {
                logger.error("curl_multi_poll failed", metadata: ["curl.code": "\(polled.rawValue)"])
            }
        }
        for handle in idleHandles { curl_easy_cleanup(handle) }
        idleHandles.removeAll()
        curl_multi_cleanup(multi)
    }

    private func readMessages() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle else { continue }
            let code = tandem_msg_result(message)
            guard let transfer = active[handle] else { continue }
            if code == CURLE_OK {
                complete(handle, .success(()))
            } else {
                let extra = transfer.curlMessage
                var detail = String(cString: curl_easy_strerror(code))
                if !extra.isEmpty { detail += ": \(extra)" }
                complete(handle, .failure(CurlError(call: "transfer \(transfer.description)", code: Int(code.rawValue), detail: detail)))
            }
        }
    }

    /// Removes a transfer from the multi handle, returns its easy handle to the pool
    /// and resumes its waiter.
    private func complete(_ handle: UnsafeMutableRawPointer, _ result: Result<Void, any Error>) {
        guard let transfer = active.removeValue(forKey: handle) else { return }
        var connects = 0
        if tandem_easy_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK {
            connectionsOpened.add(connects, ordering: .relaxed)
        }
        if case .success = result, transfer.status == 0 {
            var status = 0
            if tandem_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK {
                transfer.status = status
            }
        }
        let removed = curl_multi_remove_handle(multi, handle)
        transfer.handle = nil
        if removed == CURLM_OK && idleHandles.count < maxIdleHandles {
            curl_easy_reset(handle)
            idleHandles.append(handle)
        } else {
            curl_easy_cleanup(handle)
        }
        transfersCompleted.add(1, ordering: .relaxed)
        // A failed body producer is why the transfer failed (curl only saw
        // its read callback abort): the caller gets the producer's error.
        if case .failure = result, let failure = transfer.producerFailure {
            return transfer.finish(.failure(failure))
        }
        transfer.finish(result)
    }

    private func start(_ transfer: CurlTransfer) {
        if transfer.isCancelled {
            transfer.finish(.failure(transfer.stopError))
            return
        }
        let handle: UnsafeMutableRawPointer
        if let idle = idleHandles.popLast() {
            handle = idle
        } else if let fresh = curl_easy_init() {
            handle = fresh
        } else {
            transfer.finish(.failure(CurlError(call: "curl_easy_init", code: -1, detail: "returned NULL")))
            return
        }
        do {
            try configure(handle, for: transfer)
            try curlCheck(curl_multi_add_handle(multi, handle), "curl_multi_add_handle(\(transfer.description))")
        } catch {
            curl_easy_reset(handle)
            idleHandles.append(handle)
            transfer.finish(.failure(error))
            return
        }
        transfer.handle = handle
        active[handle] = transfer
    }

    private func configure(_ h: UnsafeMutableRawPointer, for transfer: CurlTransfer) throws(CurlError) {
        let request = transfer.request
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        func set(_ option: CURLoption, _ value: Int, _ name: String) throws(CurlError) {
            try curlCheck(tandem_easy_setopt_long(h, option, value), "curl_easy_setopt(\(name))")
        }
        func set(_ option: CURLoption, _ value: String, _ name: String) throws(CurlError) {
            try curlCheck(tandem_easy_setopt_string(h, option, value), "curl_easy_setopt(\(name))")
        }
        func set(_ option: CURLoption, _ value: UnsafeMutableRawPointer?, _ name: String) throws(CurlError) {
            try curlCheck(tandem_easy_setopt_pointer(h, option, value), "curl_easy_setopt(\(name))")
        }

        try set(CURLOPT_URL, transfer.url, "CURLOPT_URL")
        if let socket = transfer.socketPath {
            try set(CURLOPT_UNIX_SOCKET_PATH, socket, "CURLOPT_UNIX_SOCKET_PATH")
        }
        try set(CURLOPT_NOSIGNAL, 1, "CURLOPT_NOSIGNAL")
        if verbose { try set(CURLOPT_VERBOSE, 1, "CURLOPT_VERBOSE") }
        try set(CURLOPT_CONNECTTIMEOUT_MS, connectTimeoutMilliseconds, "CURLOPT_CONNECTTIMEOUT_MS")
        if let timeout = request.timeout {
            let ms = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
            try set(CURLOPT_TIMEOUT_MS, max(1, Int(ms)), "CURLOPT_TIMEOUT_MS")
        }
        try set(CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(transfer.errorBuffer), "CURLOPT_ERRORBUFFER")
        try curlCheck(tandem_easy_setopt_header_function(h, tandemCurlHeaderCallback), "curl_easy_setopt(CURLOPT_HEADERFUNCTION)")
        try set(CURLOPT_HEADERDATA, context, "CURLOPT_HEADERDATA")
        try curlCheck(tandem_easy_setopt_write_function(h, tandemCurlWriteCallback), "curl_easy_setopt(CURLOPT_WRITEFUNCTION)")
        try set(CURLOPT_WRITEDATA, context, "CURLOPT_WRITEDATA")

        var headers = request.headers
        let method = request.method.uppercased()
        switch request.body {
        case .none:
            switch method {
            case "GET":
                try set(CURLOPT_HTTPGET, 1, "CURLOPT_HTTPGET")
            case "HEAD":
                try set(CURLOPT_NOBODY, 1, "CURLOPT_NOBODY")
            case "POST":
                try set(CURLOPT_POST, 1, "CURLOPT_POST")
                try curlCheck(tandem_easy_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, 0), "curl_easy_setopt(CURLOPT_POSTFIELDSIZE_LARGE)")
                try set(CURLOPT_COPYPOSTFIELDS, "", "CURLOPT_COPYPOSTFIELDS")
            default:
                try set(CURLOPT_CUSTOMREQUEST, method, "CURLOPT_CUSTOMREQUEST")
            }
        case .bytes(let bytes):
            try curlCheck(tandem_easy_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count)), "curl_easy_setopt(CURLOPT_POSTFIELDSIZE_LARGE)")
            let code = bytes.withUnsafeBytes { raw in
                tandem_easy_setopt_pointer(h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(transfer.errorBuffer)))
            }
            try curlCheck(code, "curl_easy_setopt(CURLOPT_COPYPOSTFIELDS)")
            if method != "POST" { try set(CURLOPT_CUSTOMREQUEST, method, "CURLOPT_CUSTOMREQUEST") }
        case .stream(let length, _):
            try set(CURLOPT_POST, 1, "CURLOPT_POST")
            try curlCheck(tandem_easy_setopt_read_function(h, tandemCurlReadCallback), "curl_easy_setopt(CURLOPT_READFUNCTION)")
            try set(CURLOPT_READDATA, context, "CURLOPT_READDATA")
            if let length {
                try curlCheck(tandem_easy_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(length)), "curl_easy_setopt(CURLOPT_POSTFIELDSIZE_LARGE)")
            } else {
                headers.append(HTTPHeader("Transfer-Encoding", "chunked"))
            }
            if method != "POST" { try set(CURLOPT_CUSTOMREQUEST, method, "CURLOPT_CUSTOMREQUEST") }
        }
        // No `Expect: 100-continue` round trip.
        headers.append(HTTPHeader("Expect", ""))
        if let old = transfer.headerList {
            curl_slist_free_all(old)
            transfer.headerList = nil
        }
        var list: UnsafeMutablePointer<curl_slist>?
        for header in headers {
            let line = header.value.isEmpty ? "\(header.name):" : "\(header.name): \(header.value)"
            guard let appended = curl_slist_append(list, line) else {
                if let list { curl_slist_free_all(list) }
                throw CurlError(call: "curl_slist_append", code: -1, detail: "returned NULL")
            }
            list = appended
        }
        transfer.headerList = list
        try curlCheck(tandem_easy_setopt_slist(h, CURLOPT_HTTPHEADER, list), "curl_easy_setopt(CURLOPT_HTTPHEADER)")
    }
}
