import NIOConcurrencyHelpers
import NIOCore

/// Who may talk to one environment's Runtime API endpoint: the environment's
/// own container, identified by its address on the engine's network, and
/// nobody else — not another function, not another project's container, not
/// another user of the host.
///
/// The port of an endpoint is no secret (it is in `docker inspect`, and can be
/// found by scanning), so the source address of a connection is the identity.
/// A function container cannot forge it: it runs with every capability
/// dropped (no `NET_RAW`, no `NET_ADMIN`), so it can neither send raw packets
/// nor change its own address.
///
/// The address is known only once the container has started, and its runtime
/// may connect before that: a connection that arrives while the gate is
/// `pending` waits (it is not read from) until the address is known, and is
/// then let in or closed. No request of a connection is read before it is let in.
public final class PeerGate: Sendable {
    enum State {
        case pending([(address: String?, promise: EventLoopPromise<Bool>)])
        case open(String)
        case closed
    }

    private let state = NIOLockedValueBox(State.pending([]))

    public init() {}

    /// A gate that admits only `address` from the start (tests, and sandboxes
    /// whose address is known before the environment starts).
    public convenience init(admitting address: String) {
        self.init()
        admit(address)
    }

    /// Admits connections from `address` (an IPv4 or IPv6 literal) from now on,
    /// and decides every connection that waited.
    public func admit(_ address: String) {
        let waiting = state.withLockedValue { state -> [(address: String?, promise: EventLoopPromise<Bool>)] in
            guard case .pending(let waiting) = state else { return [] }
            state = .open(address)
            return waiting
        }
        for waiter in waiting { waiter.promise.succeed(waiter.address == address) }
    }

    /// Refuses every connection from now on (the environment is gone).
    public func close() {
        let waiting = state.withLockedValue { state -> [(address: String?, promise: EventLoopPromise<Bool>)] in
            defer { state = .closed }
            guard case .pending(let waiting) = state else { return [] }
            return waiting
        }
        for waiter in waiting { waiter.promise.succeed(false) }
    }

    /// Whether a connection from `address` may talk to the endpoint; decided
    /// at once when the environment's address is known, else when it becomes known.
    func decide(_ address: String?, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        state.withLockedValue { state in
            switch state {
            case .open(let allowed):
                return eventLoop.makeSucceededFuture(address != nil && address == allowed)
            case .closed:
                return eventLoop.makeSucceededFuture(false)
            case .pending(var waiting):
                let promise = eventLoop.makePromise(of: Bool.self)
                waiting.append((address, promise))
                state = .pending(waiting)
                return promise.futureResult
            }
        }
    }

    /// The address admitted, once known.
    public var admitted: String? {
        state.withLockedValue { state in
            if case .open(let address) = state { return address }
            return nil
        }
    }
}
