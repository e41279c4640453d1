import Foundation

/// A Baseline service executable (from `.build/debug`) running as its own process, as an
/// orchestrator runs it: environment in, `/readyz` and `/metrics` on its HTTP port, SIGTERM to stop.
final class ServiceProcess: @unchecked Sendable {
    let name: String
    let port: Int
    let process = Process()
    let log: URL

    static func binary(_ name: String) -> URL {
        ShellCommand.repository.appendingPathComponent(".build/debug/\(name)")
    }

    init(_ name: String, environment: [String: String], label: String) throws {
        self.name = name
        port = try Self.freePort()
        log = FileManager.default.temporaryDirectory.appendingPathComponent("baseline-\(label)-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = Self.binary(name)
        var env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        env["BASELINE_HTTP_PORT"] = String(port)
        process.environment = env
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: log)
    }

    /// The last lines the service logged, for failure messages.
    var logTail: String {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(15).joined(separator: "\n")
    }

    /// Peak resident memory so far (VmHWM), in KiB; 0 when unknown.
    var peakMemoryKiB: Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        return line.flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Int($0) } } ?? 0
    }

    /// Waits until GET /readyz answers 200.
    func waitUntilReady(timeout: Duration = .seconds(90)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard process.isRunning else { return false }
            if HTTPGet.status(port: port, path: "/readyz") == 200 { return true }
            try await Task.sleep(for: .milliseconds(250))
        }
        return false
    }

    /// The sum of a Prometheus metric's samples whose line starts with `prefix` (name and labels).
    func metric(_ prefix: String) -> Double {
        guard let body = HTTPGet.body(port: port, path: "/metrics") else { return -1 }
        return body.split(separator: "\n").filter { $0.hasPrefix(prefix) }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    /// SIGTERM, then waits for a clean exit (the batch in flight finishes and is committed).
    func stop(timeout: Duration = .seconds(30)) async throws -> Bool {
        guard process.isRunning else { return false }
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            process.terminate()
            return false
        }
        return process.terminationReason == .exit && process.terminationStatus == 0
    }

    /// A port the kernel says is free now (bound to 0 and released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// A minimal HTTP/1.0 GET on 127.0.0.1 (the tests need status lines and small bodies only).
enum HTTPGet {
    static func response(port: Int, path: String) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
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
        return String(decoding: data, as: UTF8.self)
    }

    static func status(port: Int, path: String) -> Int? {
        response(port: port, path: path)?.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) }
    }

    static func body(port: Int, path: String) -> String? {
        guard let response = response(port: port, path: path), let split = response.range(of: "\r\n\r\n") else { return nil }
        return String(response[split.upperBound...])
    }
}
