@_exported import CRdKafka

/// The librdkafka this process actually loaded. Debian's 2.0.2 cannot talk to Tansu
/// ("ApiVersionRequest failed: Local: Read underflow"), so services refuse to start with it.
public enum LibRdKafka {
    public static let minimumVersion: Int32 = 0x020A_0000  // 2.10.0
    public static var version: Int32 { rd_kafka_version() }
    public static var versionString: String { String(cString: rd_kafka_version_str()) }

    public struct TooOld: Error, CustomStringConvertible {
        public let loaded: String
        public var description: String {
            "librdkafka \(loaded) is loaded, Baseline needs >= 2.10: run scripts/setup "
                + "(binaries load .kafka/lib through their RUNPATH) or put a newer librdkafka first on LD_LIBRARY_PATH"
        }
    }

    /// Call once at start-up; turns a silent fallback to an old system library into a clear error.
    public static func requireMinimumVersion() throws {
        guard version >= minimumVersion else { throw TooOld(loaded: versionString) }
    }
}

func errorString(_ code: rd_kafka_resp_err_t) -> String {
    String(cString: rd_kafka_err2str(code))
}

func cString(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}
