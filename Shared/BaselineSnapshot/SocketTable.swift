#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A socket bound to a local address and waiting for peers: a TCP socket in LISTEN, or a UDP
/// socket that is bound and not connected.
public struct ListeningSocket: Hashable, Sendable {
    public var inode: UInt64
    /// `AF_INET` or `AF_INET6` (a dual-stack socket on `::` is listed once, as AF_INET6).
    public var family: String
    public var ip: String
    public var port: Int
    /// `tcp` or `udp`.
    public var `protocol`: String

    public init(inode: UInt64, family: String, ip: String, port: Int, protocol: String) {
        self.inode = inode
        self.family = family
        self.ip = ip
        self.port = port
        self.protocol = `protocol`
    }
}

/// The listening sockets of one network namespace, by socket inode, read from
/// `/proc/<pid>/net/{tcp,tcp6,udp,udp6}` (proc(5)). A process's fds name their sockets as
/// `socket:[<inode>]`, which is how its listening sockets are found.
public struct SocketTable: Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        case tcp, tcp6, udp, udp6

        var family: String { self == .tcp || self == .udp ? "AF_INET" : "AF_INET6" }
        var `protocol`: String { self == .tcp || self == .tcp6 ? "tcp" : "udp" }
        var addressHexDigits: Int { self == .tcp || self == .udp ? 8 : 32 }
    }

    /// TCP_LISTEN and TCP_CLOSE (an unconnected UDP socket) in include/net/tcp_states.h.
    static let tcpListen: UInt8 = 0x0A
    static let udpUnconnected: UInt8 = 0x07

    public private(set) var byInode: [UInt64: ListeningSocket] = [:]
    /// Lines that did not have the documented shape (skipped).
    public private(set) var malformedLines = 0

    public init() {}

    /// Adds the listening sockets of one table's text. The kernel prints each 32-bit word of an
    /// address as a number in its own byte order: `littleEndian` says which (the host's by default;
    /// tests of captured x86 text pass true).
    public mutating func add(_ text: String, kind: Kind, littleEndian: Bool = SocketTable.hostIsLittleEndian) {
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
            guard fields.count >= 10, let st = UInt8(fields[3], radix: 16), let inode = UInt64(fields[9]),
                  let local = Self.address(fields[1], kind: kind, littleEndian: littleEndian),
                  let remote = Self.address(fields[2], kind: kind, littleEndian: littleEndian) else {
                malformedLines += 1
                continue
            }
            // inode 0: a socket no longer owned by a file (TIME_WAIT, orphans).
            guard inode != 0 else { continue }
            let listening = kind.protocol == "tcp"
                ? st == Self.tcpListen
                : st == Self.udpUnconnected && local.port != 0 && remote.port == 0 && remote.isUnspecified
            if listening {
                byInode[inode] = ListeningSocket(inode: inode, family: kind.family, ip: local.ip, port: local.port,
                                                 protocol: kind.protocol)
            }
        }
    }

    public subscript(inode: UInt64) -> ListeningSocket? { byInode[inode] }

    public static let hostIsLittleEndian = UInt32(1).littleEndian == 1

    struct Address {
        var ip: String
        var port: Int
        var isUnspecified: Bool
    }

    /// `0100007F:1F90` → 127.0.0.1:8080; 32 hex digits (four words) for IPv6.
    static func address(_ field: Substring, kind: Kind, littleEndian: Bool) -> Address? {
        guard let colon = field.lastIndex(of: ":") else { return nil }
        let hex = field[..<colon]
        guard hex.count == kind.addressHexDigits, let port = UInt16(field[field.index(after: colon)...], radix: 16) else { return nil }
        var bytes: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 8)
            guard let word = UInt32(hex[i..<j], radix: 16) else { return nil }
            // The word's bytes in the kernel's memory order are the address in network order.
            let ordered = littleEndian ? word.byteSwapped : word
            bytes += [UInt8(truncatingIfNeeded: ordered >> 24), UInt8(truncatingIfNeeded: ordered >> 16),
                      UInt8(truncatingIfNeeded: ordered >> 8), UInt8(truncatingIfNeeded: ordered)]
            i = j
        }
        guard let ip = format(bytes) else { return nil }
        return Address(ip: ip, port: Int(port), isUnspecified: bytes.allSatisfy { $0 == 0 })
    }

    /// Dotted quad for 4 bytes, RFC 5952 text (inet_ntop) for 16.
    static func format(_ bytes: [UInt8]) -> String? {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        guard bytes.count == 16 else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeBytes { raw in
            text.withUnsafeMutableBufferPointer { inet_ntop(AF_INET6, raw.baseAddress, $0.baseAddress, socklen_t($0.count)) != nil }
        }
        guard ok else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
