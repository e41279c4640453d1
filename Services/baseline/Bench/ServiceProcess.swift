import ArgumentParser
import Foundation

/// A pipeline service run by the bench as a child process: the real executable from the bin
/// directory `baseline` itself runs from, with the bench's environment; its output goes to a log file.
final class ServiceProcess: @unchecked Sendable {
    let name: String
    let logPath: String
    /// Port of its ops endpoint (/metrics), when the bench asked for one.
    let metricsPort: Int?
    private let process = Process()

    /// `label` names the log file (two instances of one service each have their own); `metricsPort`
    /// turns the ops endpoint on (the bench's environment turns it off).
    init(_ name: String, binDirectory: String, environment: [String: String], logDirectory: String,
         label: String? = nil, metricsPort: Int? = nil) throws {
        self.name = name
        self.metricsPort = metricsPort
        var environment = environment
        if let metricsPort { environment["BASELINE_HTTP_PORT"] = String(metricsPort) }
        let path = binDirectory + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ValidationError("\(path) not found: build every product first (swift build -c release)")
        }
        logPath = logDirectory + "/" + (label ?? name) + ".log"
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

    /// The sum of the samples of a Prometheus metric whose lines start with `prefix` (name and
    /// labels) on its ops endpoint; nil without one or when it does not answer.
    func metric(_ prefix: String) -> Double? {
        guard let metricsPort, let body = Self.get(port: metricsPort, path: "/metrics") else { return nil }
        return body.split(separator: "\n").filter { $0.hasPrefix(prefix) }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    /// Waits until its /readyz answers 200 (false: it stopped, has no ops endpoint, or the time ran out).
    func waitUntilReady(timeout: Duration = .seconds(90)) async throws -> Bool {
        guard let metricsPort else { return false }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline && isRunning {
            if Self.get(port: metricsPort, path: "/readyz") != nil { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    /// A plain HTTP/1.0 GET on 127.0.0.1 with a 5-second receive timeout: the body, or nil.
    /// (Foundation's URLSession was seen to hang on Linux when called from the bench's tasks.)
    static func get(port: Int, path: String) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return nil }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        let response = String(decoding: data, as: UTF8.self)
        guard response.hasPrefix("HTTP/1.") && response.contains(" 200 "), let split = response.range(of: "\r\n\r\n") else { return nil }
        return String(response[split.upperBound...])
    }

    /// A TCP port of the loopback that the kernel says is free now (bound to 0 and released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ValidationError("no socket for a free port") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw ValidationError("no free port on 127.0.0.1") }
        return Int(UInt16(bigEndian: addr.sin_port))
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
