import Foundation
import Synchronization

/// The progress display: one line on standard error, rewritten in place on a terminal
/// ("[3/9] ingest: 1,200 of 3,000 dumps merged"), so standard output keeps only the table. Off a
/// terminal (CI logs) it writes a line when a step starts and then at most every 5 seconds.
final class BenchProgress: Sendable {
    let steps: Int
    private let interactive = isatty(STDERR_FILENO) == 1
    private let last = Mutex<(step: Int, at: ContinuousClock.Instant)>((0, .now))

    init(steps: Int) { self.steps = steps }

    func show(_ step: Int, _ text: String) {
        let line = "[\(step)/\(steps)] \(text)"
        if interactive {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
            return
        }
        let due = last.withLock { state -> Bool in
            guard state.step != step || ContinuousClock.now - state.at > .seconds(5) else { return false }
            state = (step, .now)
            return true
        }
        if due { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    /// Ends the in-place line.
    func finish() {
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
