import BaselineAPI
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import Testing

/// profile-api as the service wires it (APIServer's router in an `Application`), served on an
/// ephemeral port through the real HTTP stack, against the test database.
enum LiveProfileAPI {
    static let readToken = "test-read-\(UInt64.random(in: 0 ... .max))"
    static let writeToken = "test-write-\(UInt64.random(in: 0 ... .max))"

    /// Runs `body` with a live server: its client (HTTP on the server's port) and the port.
    static func run<T: Sendable>(client database: PostgresClient, maxBodyBytes: Int = 1 << 20, maxImportBytes: Int = 8 << 20,
                                 _ body: @Sendable @escaping (any TestClientProtocol, Int) async throws -> T) async throws -> T {
        var configuration = APIConfiguration(tokens: try APITokens.load(inline: "\(readToken):read,\(writeToken):write", file: nil))
        configuration.maxBodyBytes = maxBodyBytes
        configuration.maxImportBytes = maxImportBytes
        let router = APIServer.router(client: database, configuration: configuration, logger: TestStack.logger)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: TestStack.logger)
        return try await app.test(.live) { client in
            guard let port = client.port else { throw ToolFailure(description: "the live test server did not report its port") }
            return try await body(client, port)
        }
    }

    /// The package's root (this file is Tests/BaselineIntegrationTests/LiveProfileAPI.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The venv's Python that `scripts/setup` makes (openapi-core, selenium), as scripts find it.
    static func python() throws -> String {
        let path = packageRoot.appendingPathComponent(".kafka/venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ToolFailure(description: "\(path) is missing: run scripts/setup (it makes the venv with openapi-core and selenium)")
        }
        return path
    }

    /// Where tests leave what a person may want to look at (screenshots, the recorded exchanges).
    static func artifactsDirectory(_ name: String) throws -> URL {
        let dir = packageRoot.appendingPathComponent(".build/test-artifacts/\(name)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Percent-encodes a path segment or query value (`/` too: image names hold it).
    static func encoded(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"))!
    }
}

struct ToolFailure: Error, CustomStringConvertible {
    let description: String
}

/// Runs a helper program without blocking a thread of the concurrency pool; its output goes to a file.
enum ToolProcess {
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws
        -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("tool-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        defer { try? FileManager.default.removeItem(at: log) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = handle
        process.standardError = handle
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        try handle.close()
        return (status, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }
}
