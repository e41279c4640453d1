import Foundation

/// Runs a program to completion and keeps what it printed (stdout and stderr together), for tests
/// that drive the repository's scripts. posix_spawn and waitpid rather than Foundation's Process:
/// a script that leaves a daemon running (scripts/stack starts the broker in the background) hands
/// it Process's exit-monitoring descriptor, and Process then never sees the script end.
enum ShellCommand {
    struct Result {
        let status: Int32
        let output: String
    }

    static func run(_ arguments: [String], in directory: URL, environment: [String: String],
                    timeout: Duration = .seconds(300)) async throws -> Result {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("baseline-shell-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        // bash changes directory, then execs the command with its arguments.
        let argv = ["/bin/bash", "-c", "cd \"$0\" && exec \"$@\"", directory.path] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        let spawned = withCStrings(argv) { cArgv in
            withCStrings(envp) { cEnvp in posix_spawn(&pid, "/bin/bash", &actions, nil, cArgv, cEnvp) }
        }
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var status: Int32 = 0
        let deadline = ContinuousClock.now + timeout
        while waitpid(pid, &status, WNOHANG) == 0 {
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return Result(status: exitStatus, output: output)
    }

    static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        var pointers = strings.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        pointers.append(nil)
        return body(pointers)
    }

    /// The repository this test target was built from.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
}
