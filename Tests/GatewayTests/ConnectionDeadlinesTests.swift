import Testing
@testable import Gateway

/// The header and idle deadlines of a connection, without sockets.
@Suite("Connection deadlines (pure)")
struct ConnectionDeadlinesTests {
    @Test("a new connection has the header timeout; a head disarms it; a response's end arms the idle timeout")
    func lifecycle() {
        var state = ConnectionDeadlines()
        #expect(state.opened() == .arm(.header))
        #expect(state.bytesArrived() == .none, "the header deadline runs from the connection's opening, not its bytes")
        #expect(state.headReceived() == .disarm)
        #expect(state.bytesArrived() == .none, "body bytes start no timer")
        #expect(state.deadlinePassed(.header) == .none, "a stale header timer does nothing while busy")
        #expect(state.responseEnded() == .arm(.idle))
        #expect(state.bytesArrived() == .arm(.header), "the next request's first byte starts its header deadline")
        #expect(state.bytesArrived() == .none, "trickling more bytes does not extend it")
        #expect(state.deadlinePassed(.idle) == .none, "a stale idle timer does nothing")
        #expect(state.deadlinePassed(.header) == .timedOut(.header, answer: true))
    }

    @Test("a silent new connection times out without an answer; an idle kept-alive one too")
    func quietCloses() {
        var fresh = ConnectionDeadlines()
        _ = fresh.opened()
        #expect(fresh.deadlinePassed(.header) == .timedOut(.header, answer: false))

        var kept = ConnectionDeadlines()
        _ = kept.opened()
        _ = kept.headReceived()
        _ = kept.responseEnded()
        #expect(kept.deadlinePassed(.idle) == .timedOut(.idle, answer: false))
    }

    @Test("pipelined heads: the idle timer starts only when the last response ended")
    func pipelined() {
        var state = ConnectionDeadlines()
        _ = state.opened()
        _ = state.headReceived()
        _ = state.headReceived()
        #expect(state.responseEnded() == .none)
        #expect(state.isAnswering)
        #expect(state.responseEnded() == .arm(.idle))
        #expect(!state.isAnswering)
    }
}
