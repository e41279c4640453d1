#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where `-o DIR` puts each dump: one file per dump, named after the workload, written whole or
/// not at all.
public enum SnapshotFiles {
    /// Bytes kept of each part of a name before it is cut and given a hash (a file name may hold
    /// 255 bytes; image names may hold 4096).
    static let maxPartBytes = 64

    /// `<image>-<instance>-<start>.json` (the instance: container id, else host/service, so the
    /// workloads of one snapshot never share a name). Every character outside [A-Za-z0-9._-] is
    /// replaced, so no name (a unit, an image with a registry) can leave the directory, and each
    /// part longer than 64 bytes is cut and followed by a hash of the whole part, so the name stays
    /// under 255 bytes and two long names stay apart.
    public static func fileName(_ dump: SnapshotDump) -> String {
        let parts = [dump.workload.imageName, dump.workload.instanceID, String(dump.start)].map(part)
        let safe = parts.joined(separator: "-")
        // No hidden file, no `..`.
        return (safe.hasPrefix(".") ? "_" + String(safe.dropFirst()) : safe) + ".json"
    }

    static func part(_ raw: String) -> String {
        let safe = String(String.UnicodeScalarView(raw.unicodeScalars.map {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "-" ? $0 : "_"
        }))
        guard safe.utf8.count > maxPartBytes else { return safe }
        let hash = String(fnv1a(Array(raw.utf8)), radix: 16)
        return String(safe.prefix(maxPartBytes - 17)) + "~" + String(repeating: "0", count: 16 - hash.count) + hash
    }

    /// FNV-1a, 64 bits: tells long names apart (uniqueness, not secrecy; a collision fails the write).
    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }

    public struct WriteError: Error, CustomStringConvertible {
        public var path: String
        public var errno: Int32
        public var description: String { "cannot write \(path): \(String(cString: strerror(errno)))" }
    }

    /// Writes `bytes` to `directory/name` atomically: into a new temporary file beside it (created
    /// exclusively, never through a symbolic link), then renamed over the name, so a reader never
    /// sees half a dump and a link planted in the directory is replaced, not followed.
    public static func write(_ bytes: [UInt8], directory: String, name: String) throws(WriteError) {
        let final = directory + "/" + name
        let temporary = directory + "/.\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        if fd < 0 { throw WriteError(path: temporary, errno: errno) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                unlink(temporary)
                throw WriteError(path: final, errno: code)
            }
            written += n
        }
        if close(fd) != 0 {
            let code = errno
            unlink(temporary)
            throw WriteError(path: final, errno: code)
        }
        if rename(temporary, final) != 0 {
            let code = errno
            unlink(temporary)
            throw WriteError(path: final, errno: code)
        }
    }
}

/// The C `write`.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
