import ArgumentParser
import Foundation

/// A pipeline service run by the bench as a child process: the real executable from the bin
/// directory `baseline` itself runs from, with the bench's environment; its output goes to a log file.
final class ServiceProcess: @unchecked Sendable {
    let name: String
    let logPath: String
    private let process = Process()

    init(_ name: String, binDirectory: String, environment: [String: String], logDirectory: String) throws {
        self.name = name
        let path = binDirectory + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ValidationError("\(path) not found: build every product first (swift build -c release)")
        }
        logPath = logDirectory + "/" + name + ".log"
        guard FileManager.default.createFile(atPath: logPath, contents: nil) else {
            throw ValidationError("cannot write \(logPath)")
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: path)
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    /// Graceful shutdown (SIGTERM: the batch in flight finishes), SIGKILL after `grace`.
    func stop(grace: Duration = .seconds(15)) async {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + grace
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// The last lines of its log, for an error message.
    func logTail(lines: Int = 15) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// The directory of the running executable: the services are built beside `baseline`.
    static var ownBinDirectory: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().path
    }
}
