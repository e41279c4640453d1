import Foundation

/// A dedicated OS thread that serves a client's main queue (`rd_kafka_poll`: delivery reports,
/// logs, errors) until stopped. Blocking C calls never run on Swift's cooperative thread pool
/// (2 threads on this machine).
final class PollThread: @unchecked Sendable {
    private let handle: OpaquePointer
    private let stopped = ManagedAtomicFlag()
    private let done = DispatchSemaphore(value: 0)

    init(handle: OpaquePointer, name: String) {
        self.handle = handle
        let thread = Thread { [self] in
            while !stopped.isSet { rd_kafka_poll(self.handle, 100) }
            done.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Stops and joins the thread (at most one 100 ms poll later). Call before destroying the handle.
    func stop() {
        guard stopped.set() else { return }
        done.wait()
    }
}
