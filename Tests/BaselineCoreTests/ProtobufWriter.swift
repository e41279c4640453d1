/// Test helper: writes protobuf wire format, to build binary SecDump fixtures by hand without a
/// code generator. Typed writers encode each scalar type the way protobuf runtimes do (int32
/// sign-extended to ten bytes, sint64 zigzag, repeated uint32 packed); `SecDumpField` holds the
/// field numbers. The fixture in `Fixtures/` (written by the protobuf runtime itself) is what
/// proves these numbers right: see `SecDumpSchemaTests`.
struct ProtobufWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }

    mutating func key(_ field: Int, _ wireType: Int) { varint(UInt64(field << 3 | wireType)) }

    /// Any varint field (uint32, uint64, bool, enum, non-negative int32).
    mutating func int(_ field: Int, _ v: UInt64) { key(field, 0); varint(v) }
    mutating func int32(_ field: Int, _ v: Int32) { int(field, UInt64(bitPattern: Int64(v))) }
    mutating func sint64(_ field: Int, _ v: Int64) { int(field, UInt64(bitPattern: (v << 1) ^ (v >> 63))) }
    mutating func bool(_ field: Int, _ v: Bool) { int(field, v ? 1 : 0) }
    mutating func bytesField(_ field: Int, _ b: [UInt8]) { key(field, 2); varint(UInt64(b.count)); bytes += b }
    mutating func string(_ field: Int, _ s: String) { bytesField(field, Array(s.utf8)) }
    mutating func packed(_ field: Int, _ values: [UInt64]) {
        var w = ProtobufWriter()
        for v in values { w.varint(v) }
        bytesField(field, w.bytes)
    }
    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var w = ProtobufWriter()
        build(&w)
        bytesField(field, w.bytes)
    }
}

/// Field numbers of DataDog/agent-payload `proto/cws/dumpsv1/activity_dump.proto` (message.field).
enum SecDumpField {
    enum SecDump { static let host = 1, service = 2, source = 3, metadata = 4, tags = 5, tree = 6 }
    enum Metadata { static let name = 5, differentiateArgs = 7, comm = 8, containerID = 9, start = 10, end = 11 }
    enum ProcessActivityNode {
        static let process = 1, children = 3, files = 4, dnsNames = 5, sockets = 6, syscalls = 7, generationType = 8
        static let matchedRules = 9, imageTags = 10, syscallNodes = 12, nodeBase = 14, capabilityNodes = 15
    }
    enum ProcessInfo { static let pid = 1, ppid = 3, file = 6, comm = 11, args = 16, argv0 = 17, isExecChild = 21 }
    enum FileInfo { static let path = 11, basename = 12 }
    enum FileActivityNode { static let name = 1, file = 2, open = 5, children = 6, generationType = 8, imageTags = 10 }
    enum OpenNode { static let retval = 1, flags = 2, mode = 3 }
    enum DNSNode { static let requests = 1 }
    enum DNSInfo { static let name = 1, type = 2, dnsClass = 3 }
    enum SocketNode { static let family = 1, bind = 2 }
    enum BindNode { static let port = 1, ip = 2, matchedRules = 3, imageTags = 4, `protocol` = 5, nodeBase = 6 }
    enum SyscallNode { static let imageTags = 1, syscall = 2, nodeBase = 3 }
    enum CapabilityNode { static let nodeBase = 1, capability = 2, isCapable = 3 }
    enum NodeBase { static let seen = 1 }
    enum ImageTagTimes { static let firstSeen = 1, lastSeen = 2 }
}

extension ProtobufWriter {
    /// A `NodeBase` with one `seen` entry (map<string, ImageTagTimes>), as the agent writes on every node.
    mutating func nodeBase(_ field: Int, tag: String = "2.0") {
        message(field) { nb in
            nb.message(SecDumpField.NodeBase.seen) { entry in
                entry.string(1, tag)
                entry.message(2) { t in
                    t.int(SecDumpField.ImageTagTimes.firstSeen, 1_764_400_000_000_000_000)
                    t.int(SecDumpField.ImageTagTimes.lastSeen, 1_764_400_100_000_000_000)
                }
            }
        }
    }
}
