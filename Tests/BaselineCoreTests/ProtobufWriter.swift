/// Test helper: writes protobuf wire format, to build binary SecDump fixtures from the public
/// field numbers without a code generator.
struct ProtobufWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }

    mutating func int(_ field: Int, _ v: UInt64) { varint(UInt64(field << 3)); varint(v) }
    mutating func bool(_ field: Int, _ v: Bool) { int(field, v ? 1 : 0) }
    mutating func bytesField(_ field: Int, _ b: [UInt8]) { varint(UInt64(field << 3 | 2)); varint(UInt64(b.count)); bytes += b }
    mutating func string(_ field: Int, _ s: String) { bytesField(field, Array(s.utf8)) }
    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var w = ProtobufWriter()
        build(&w)
        bytesField(field, w.bytes)
    }
}
