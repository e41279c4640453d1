import Foundation

/// The merge request's JSON on `profile-merge-requests`: the bytes `JSONEncoder` writes, read back
/// as `JSONDecoder` reads them, both without Foundation's boxing for plain requests.
extension MergeRequest {
    public func json() -> [UInt8] { MergeRequestWriter.json(self) }

    /// The one-pass reader (`ActivityDumpReader`), else `JSONDecoder` with its errors (which
    /// dead-letter the record).
    public static func fromJSON(_ bytes: [UInt8]) throws -> MergeRequest {
        if let request = ActivityDumpReader.mergeRequest(bytes) { return request }
        return try JSONDecoder().decode(MergeRequest.self, from: Data(bytes))
    }
}
