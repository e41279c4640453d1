import CZlib

/// gzip decompression with a hard output bound (a "zip bomb" is rejected, not expanded).
enum Gzip {
    static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }

    static func decompress(_ input: [UInt8], maxOutput: Int) throws(Rejection) -> [UInt8] {
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Rejection("invalid_gzip", "cannot initialise gzip decompression")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status: Int32 = Z_OK
        var input = input
        input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = uInt(outBuf.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    output.append(contentsOf: outBuf[0..<(outBuf.count - Int(stream.avail_out))])
                }
            } while status == Z_OK && output.count <= maxOutput
        }
        if output.count > maxOutput {
            throw Rejection("payload_too_large", "the dump decompresses to more than \(maxOutput) bytes")
        }
        guard status == Z_STREAM_END else {
            throw Rejection("invalid_gzip", "the gzip stream is corrupt or truncated (zlib status \(status))")
        }
        return output
    }
}
