import BaselineCore
import Foundation

/// A small process tree a test starts and then snapshots, whose behaviour the test knows exactly:
///
///     /bin/sh -c …                      (the root)
///     ├── /usr/bin/sleep 302
///     └── python3 server.py DIR         files: DIR/data.log (append), DIR/state db (read),
///         │                                    DIR/line⏎break.txt (read-write), DIR/gone.tmp (deleted
///         │                                    while open), /proc/<own pid>/status
///         │                             listening: TCP 127.0.0.1:P, TCP [::1]:R, UDP 127.0.0.1:Q;
///         │                             also an established TCP connection and a connected UDP socket
///         └── /usr/bin/sleep 301
///
/// A launcher closes every inherited fd above 2 and execs the shell, and standard streams are
/// /dev/null, so nothing the test runner holds open leaks into the tree. It is started with
/// posix_spawn and reaped with waitpid, not with Foundation's `Process`: Process learns that a
/// child ended when a socket the child inherited closes, and then waits for that pid on the one
/// thread that watches every Process. The launcher closes that socket at once, so that thread
/// would block until the tree ends, and every other test's `waitUntilExit` with it (a deadlock
/// once those waits fill Swift's cooperative pool, which has one thread per core).
/// (Compiled into BaselineSnapshotTests and, through a link, BaselineIntegrationTests.)
final class SnapshotWorkload: @unchecked Sendable {
    let directory: URL
    let launcherPID: pid_t
    /// Ports the server bound (the kernel chose them) and the pids of the tree.
    let tcpPort: Int, tcp6Port: Int, udpPort: Int
    let shellPID: Int64, serverPID: Int64, serverChildPID: Int64, shellChildPID: Int64

    static let server = """
        import json, os, signal, socket, subprocess, sys, time
        d = sys.argv[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM); tcp.bind(("127.0.0.1", 0)); tcp.listen()
        tcp6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); tcp6.bind(("::1", 0)); tcp6.listen()
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("127.0.0.1", 0))
        # Not listening: a connected UDP socket and both ends of an established connection.
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); peer.connect(("127.0.0.1", udp.getsockname()[1]))
        client = socket.create_connection(("127.0.0.1", tcp.getsockname()[1])); accepted, _ = tcp.accept()
        log = open(os.path.join(d, "data.log"), "a")
        state = open(os.path.join(d, "state db"), "rb")
        odd = open(os.path.join(d, "line\\nbreak.txt"), "r+")
        gone = open(os.path.join(d, "gone.tmp"), "w"); os.unlink(os.path.join(d, "gone.tmp"))
        status = open("/proc/self/status", "rb")
        child = subprocess.Popen(["/usr/bin/sleep", "301"])
        ready = {"tcp": tcp.getsockname()[1], "tcp6": tcp6.getsockname()[1], "udp": udp.getsockname()[1],
                 "server": os.getpid(), "child": child.pid}
        with open(os.path.join(d, "ready.tmp"), "w") as f: json.dump(ready, f)
        os.rename(os.path.join(d, "ready.tmp"), os.path.join(d, "ready.json"))
        signal.signal(signal.SIGTERM, lambda *_: (child.kill(), sys.exit(0)))
        while True: time.sleep(60)
        """

    static let launcher = "import os, sys; os.closerange(3, 1 << 16); os.execv(sys.argv[1], sys.argv[1:])"
    static let python = "/usr/bin/python3"
    static let shell = "/bin/sh"
    static let sleep = "/usr/bin/sleep"

    /// `$0` is the directory.
    static let script = #"/usr/bin/sleep 302 & echo $! > "$0/sleep.pid"; /usr/bin/python3 "$0/server.py" "$0" & wait"#

    struct Failure: Error, CustomStringConvertible { let description: String }

    init() throws {
        let fm = FileManager.default
        guard fm.isExecutableFile(atPath: Self.python) else { throw Failure(description: "\(Self.python) is needed to start the workload") }
        directory = fm.temporaryDirectory.appendingPathComponent("baseline-snapshot-\(UUID().uuidString.prefix(8))")
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.server.write(to: directory.appendingPathComponent("server.py"), atomically: true, encoding: .utf8)
        try Data("state".utf8).write(to: directory.appendingPathComponent("state db"))
        try Data("odd".utf8).write(to: directory.appendingPathComponent("line\nbreak.txt"))

        launcherPID = try Self.spawn([Self.python, "-c", Self.launcher, Self.shell, "-c", Self.script, directory.path])
        shellPID = Int64(launcherPID)

        // Ready: the server wrote its ports, and every process of the tree runs its final program
        // (a child between fork and exec still runs the shell's or python's image).
        let deadline = Date().addingTimeInterval(20)
        var ready: [String: Int]?
        while Date() < deadline {
            if let data = fm.contents(atPath: directory.appendingPathComponent("ready.json").path),
               let r = try? JSONSerialization.jsonObject(with: data) as? [String: Int],
               let pidText = fm.contents(atPath: directory.appendingPathComponent("sleep.pid").path),
               let sleeper = Int(String(decoding: pidText, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
               Self.executable(of: sleeper) == Self.realpath(Self.sleep), Self.executable(of: r["child"] ?? 0) == Self.realpath(Self.sleep),
               Self.executable(of: Int(shellPID)) == Self.realpath(Self.shell) {
                ready = r
                ready?["sleeper"] = sleeper
                break
            }
            if Self.hasExited(launcherPID) { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard let ready, let tcp = ready["tcp"], let tcp6 = ready["tcp6"], let udp = ready["udp"], let server = ready["server"],
              let child = ready["child"], let sleeper = ready["sleeper"] else {
            kill(launcherPID, SIGKILL)
            Self.reap(launcherPID)
            throw Failure(description: "the workload did not start in time (see \(directory.path))")
        }
        (tcpPort, tcp6Port, udpPort) = (tcp, tcp6, udp)
        (serverPID, serverChildPID, shellChildPID) = (Int64(server), Int64(child), Int64(sleeper))
    }

    func stop() {
        for pid in [serverChildPID, shellChildPID, serverPID, shellPID] { kill(pid_t(pid), SIGKILL) }
        Self.reap(launcherPID)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts `arguments` with standard streams on /dev/null and the runner's environment.
    static func spawn(_ arguments: [String]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        guard status == 0 else { throw Failure(description: "posix_spawn \(arguments[0]): \(String(cString: strerror(status)))") }
        return pid
    }

    /// True once `pid` (a child of this process) has ended; reaps it then.
    static func hasExited(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == pid
    }

    /// Waits for `pid`, which was sent SIGKILL, to end (briefly: the kernel ends it at once).
    static func reap(_ pid: pid_t) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func executable(of pid: Int) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
    }

    static func realpath(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }

    /// What a snapshot of the tree must contain, and nothing else: built from what the test set
    /// up, not from /proc. Open flags as the kernel keeps them: O_CREAT and O_TRUNC are dropped
    /// after open, and every file of a 64-bit process is marked O_LARGEFILE (the kernel's number,
    /// which differs by architecture and which Glibc's O_LARGEFILE, 0 on 64-bit, does not give).
    func expectedProcesses() -> [ProcessNode] {
        #if arch(arm64) || arch(powerpc64) || arch(powerpc64le)
        let kernelLargeFile: UInt32 = 0o400000
        #else
        let kernelLargeFile: UInt32 = 0o100000  // x86-64, riscv64, s390x
        #endif
        let largeCloexec: UInt32 = kernelLargeFile | UInt32(O_CLOEXEC)
        let files = [
            FileAccess(path: path("data.log"), flags: UInt32(O_WRONLY | O_APPEND) | largeCloexec),
            FileAccess(path: path("state db"), flags: UInt32(O_RDONLY) | largeCloexec),
            FileAccess(path: path("line\nbreak.txt"), flags: UInt32(O_RDWR) | largeCloexec),
            FileAccess(path: path("gone.tmp"), flags: UInt32(O_WRONLY) | largeCloexec),
            FileAccess(path: "/proc/self/status", flags: UInt32(O_RDONLY) | largeCloexec),
        ].sorted { $0.path < $1.path }
        let binds = [
            SocketBind(family: "AF_INET", ip: "127.0.0.1", port: tcpPort, protocol: "tcp"),
            SocketBind(family: "AF_INET", ip: "127.0.0.1", port: udpPort, protocol: "udp"),
            SocketBind(family: "AF_INET6", ip: "::1", port: tcp6Port, protocol: "tcp"),
        ].sorted { ($0.family, $0.ip, $0.port, $0.protocol) < ($1.family, $1.ip, $1.port, $1.protocol) }
        let server = ProcessNode(
            path: Self.realpath(Self.python), argv0: Self.python, args: [path("server.py"), directory.path], comm: "python3",
            pid: serverPID, files: files, binds: binds,
            children: [ProcessNode(path: Self.realpath(Self.sleep), argv0: Self.sleep, args: ["301"], comm: "sleep", pid: serverChildPID)])
        let sleeper = ProcessNode(path: Self.realpath(Self.sleep), argv0: Self.sleep, args: ["302"], comm: "sleep", pid: shellChildPID)
        let shell = ProcessNode(
            path: Self.realpath(Self.shell), argv0: Self.shell,
            args: ["-c", Self.script, directory.path],
            comm: "sh", pid: shellPID, children: [server, sleeper].sorted { $0.pid! < $1.pid! })
        return [shell]
    }
}
