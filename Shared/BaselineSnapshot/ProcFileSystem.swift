#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a read under /proc failed, as far as a snapshot cares: the process is gone, we may not
/// look at it, or something else (kept with its errno for the summary).
public enum ProcError: Error, Hashable, Sendable, CustomStringConvertible {
    /// ENOENT / ESRCH: the process (or the fd) went away between listing and reading.
    case vanished
    /// EACCES / EPERM: another user's process without the privilege to inspect it.
    case permissionDenied
    /// The process ran another program (exec) while it was read: the record would mix two.
    case replaced
    /// Reading it blocked past the deadline (`ReadDeadline`): abandoned.
    case timedOut
    case other(errno: Int32)

    public var description: String {
        switch self {
        case .vanished: return "no such file or directory"
        case .permissionDenied: return "permission denied"
        case .replaced: return "the process ran another program while it was read"
        case .timedOut: return "reading it blocked past the deadline"
        case .other(let code): return String(cString: strerror(code)) + " (errno \(code))"
        }
    }

    static func from(errno code: Int32) -> ProcError {
        switch code {
        case ENOENT, ESRCH: return .vanished
        case EACCES, EPERM: return .permissionDenied
        default: return .other(errno: code)
        }
    }
}

/// What a regular `stat` of an fd's target says, as far as a snapshot needs it.
public struct ProcFileStatus: Hashable, Sendable {
    public var isRegularFile: Bool
    public var linkCount: UInt64
}

/// Raw access to a /proc tree. The root is injectable: tests point it at a directory tree built
/// from captured /proc text, the CLI at `/proc` (or `--proc` for a host's /proc mounted elsewhere).
/// Every read is bounded, so a huge cmdline or fd table cannot make a snapshot unbounded.
public struct ProcFileSystem: Sendable {
    public let root: String

    public init(root: String = "/proc") {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
    }

    public func path(_ relative: String) -> String { root + "/" + relative }

    /// At most `maxBytes` bytes of a file (/proc files report size 0, so read until EOF or the bound).
    public func read(_ relative: String, maxBytes: Int = 1 << 20) throws(ProcError) -> [UInt8] {
        let fd = open(path(relative), O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw ProcError.from(errno: errno) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while out.count < maxBytes {
            let want = min(chunk.count, maxBytes - out.count)
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, want) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ProcError.from(errno: errno)
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// The text of a file, invalid UTF-8 replaced (never a crash on odd bytes).
    public func readText(_ relative: String, maxBytes: Int = 1 << 20) throws(ProcError) -> String {
        String(decoding: try read(relative, maxBytes: maxBytes), as: UTF8.self)
    }

    /// The target of a symbolic link (`exe`, `fd/N`, `ns/net`) as raw bytes: a path may hold any
    /// byte but NUL, spaces and newlines included.
    public func readLink(_ relative: String) throws(ProcError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = buffer.withUnsafeMutableBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { readlink(path(relative), $0, p.count) }
        }
        if n < 0 { throw ProcError.from(errno: errno) }
        return Array(buffer[0..<n])
    }

    /// The type and link count of what a link (`fd/N`, `exe`) resolves to, even a deleted file.
    /// `statx` with `AT_STATX_DONT_SYNC` answers from the inode the open file already holds: a
    /// plain `stat` asks the file system, and a FUSE or NFS mount that never answers (one any user
    /// can make) would hang the snapshot. `stat` only where `statx` is missing (not Linux).
    public func status(_ relative: String) throws(ProcError) -> ProcFileStatus {
        if let statx = Statx.function {
            var buffer = Statx.Buffer()
            let rc = withUnsafeMutableBytes(of: &buffer) { statx(AT_FDCWD, path(relative), Statx.dontSync, Statx.typeAndLinks, $0.baseAddress!) }
            if rc != 0 { throw ProcError.from(errno: errno) }
            return ProcFileStatus(isRegularFile: (mode_t(buffer.mode) & S_IFMT) == S_IFREG, linkCount: UInt64(buffer.nlink))
        }
        var st = stat()
        if stat(path(relative), &st) != 0 { throw ProcError.from(errno: errno) }
        return ProcFileStatus(isRegularFile: (st.st_mode & S_IFMT) == S_IFREG, linkCount: UInt64(st.st_nlink))
    }

    /// Up to `limit` entry names of a directory (`.` and `..` left out), and whether more were left.
    public func list(_ relative: String, limit: Int = Int.max) throws(ProcError) -> (names: [String], truncated: Bool) {
        guard let dir = opendir(path(relative)) else { throw ProcError.from(errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw ProcError.from(errno: errno) }
                return (names, false)
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            if names.count >= limit { return (names, true) }
            names.append(name)
        }
    }
}

/// The C `read`, named apart from `ProcFileSystem.read`.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

/// glibc's `statx` (2.28+), which Swift's Glibc module does not declare: looked up at run time.
enum Statx {
    typealias Function = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UInt32, UnsafeMutableRawPointer) -> Int32
    /// linux/fcntl.h and linux/stat.h (the same on every architecture).
    static let dontSync: Int32 = 0x4000  // AT_STATX_DONT_SYNC
    static let typeAndLinks: UInt32 = 0x1 | 0x4  // STATX_TYPE | STATX_NLINK

    /// `struct statx` (256 bytes): nlink at offset 16, mode at 28.
    struct Buffer {
        var mask: UInt32 = 0
        var blockSize: UInt32 = 0
        var attributes: UInt64 = 0
        var nlink: UInt32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        var mode: UInt16 = 0
        var padding: UInt16 = 0
        var rest: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                   UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                   UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    }

    static let function: Function? = {
        #if os(Linux)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "statx") else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
        #else
        return nil
        #endif
    }()
}
