import BaselineSnapshot
import Foundation

/// A /proc tree a test writes process by process (stat, status, cgroup, cmdline, exe, ns, fd
/// links), for the shapes the captured fixtures do not have: forged cgroups, reused pids, huge
/// command lines, processes that exec while read.
struct FakeProcTree {
    let directory: URL
    var root: String { directory.appendingPathComponent("proc").path }
    var files: String { directory.appendingPathComponent("files").path }

    init() throws {
        let fm = FileManager.default
        directory = fm.temporaryDirectory.appendingPathComponent("fake-proc-tree-\(UUID().uuidString)")
        try fm.createDirectory(atPath: directory.appendingPathComponent("proc/sys/kernel").path, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: directory.appendingPathComponent("files").path, withIntermediateDirectories: true)
        try write("stat", "cpu  1 0 1 1 0 0 0 0 0 0\nbtime 1795999909\n")
        try write("sys/kernel/hostname", "node1\n")
    }

    func write(_ relative: String, _ text: String) throws {
        try write(relative, Array(text.utf8))
    }

    func write(_ relative: String, _ bytes: [UInt8]) throws {
        let url = directory.appendingPathComponent("proc").appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    func link(_ relative: String, to target: String) throws {
        let url = directory.appendingPathComponent("proc").appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: target)
    }

    /// A regular file under `files/` for an fd to point to.
    func file(_ name: String) throws -> String {
        let path = files + "/" + name
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: Data("x".utf8)) }
        return path
    }

    /// One process (or, with `directory`, one of its threads: `<pid>/task/<tid>`). `start` is in
    /// ticks after boot; `args` includes argv[0].
    func process(_ pid: Int64, ppid: Int64, comm: String? = nil, exe: String, cgroup: String, start: UInt64 = 1000,
                 args: [String]? = nil, uid: Int = 0, mountNamespace: String = "mnt:[4026531841]",
                 networkNamespace: String = "net:[4026531840]", openFiles: [String] = [], sockets: [UInt64] = [],
                 state: String = "S", directory: String? = nil) throws {
        let name = comm ?? String(exe.split(separator: "/").last ?? "x")
        let dir = directory ?? "\(pid)"
        try write("\(dir)/stat", "\(pid) (\(name)) \(state) \(ppid) \(pid) \(pid) 0 -1 4194304 95 0 0 0 0 0 0 0 20 0 1 0 \(start) 2990080 391 "
                  + "18446744073709551615 1 1 1 0 0 0 0 6 0 1 0 0 17 1 0 0 0 0 0 1 1 1 1 1 1 1 0\n")
        try write("\(dir)/status", "Name:\t\(name)\nPid:\t\(pid)\nPPid:\t\(ppid)\nUid:\t\(uid)\t\(uid)\t\(uid)\t\(uid)\nGid:\t\(uid)\t\(uid)\t\(uid)\t\(uid)\n")
        try write("\(dir)/cgroup", "0::\(cgroup)\n")
        let argv = args ?? [exe]
        try write("\(dir)/cmdline", argv.flatMap { Array($0.utf8) + [0] })
        try link("\(dir)/exe", to: exe)
        try link("\(dir)/ns/mnt", to: mountNamespace)
        try link("\(dir)/ns/net", to: networkNamespace)
        try FileManager.default.createDirectory(atPath: root + "/\(dir)/fd", withIntermediateDirectories: true)
        var fd = 3
        for name in openFiles {
            try link("\(dir)/fd/\(fd)", to: try file(name))
            fd += 1
        }
        for inode in sockets {
            try link("\(dir)/fd/\(fd)", to: "socket:[\(inode)]")
            fd += 1
        }
    }

    /// A TCP listener on 127.0.0.1:`port` with `inode`, as /proc/<pid>/net/tcp prints it.
    func listeningTCP(_ pid: Int64, port: Int, inode: UInt64) throws {
        let header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        let line = "   0: 0100007F:\(String(format: "%04X", port)) 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 \(inode) 1 0000000000000000 100 0 0 10 0\n"
        try write("\(pid)/net/tcp", header + line)
        for kind in ["tcp6", "udp", "udp6"] { try write("\(pid)/net/\(kind)", header) }
    }

    func reader(limits: SnapshotLimits = SnapshotLimits()) -> ProcReader {
        ProcReader(fs: ProcFileSystem(root: root), limits: limits, ticksPerSecond: 100)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
