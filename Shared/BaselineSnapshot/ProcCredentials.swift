/// User and group ids of a process, from the `Uid:` and `Gid:` lines of `/proc/<pid>/status`
/// (real, effective, saved, filesystem). A line that is missing or malformed leaves the ids nil.
public struct ProcCredentials: Hashable, Sendable {
    public var uid: UInt32?
    public var gid: UInt32?
    public var euid: UInt32?
    public var egid: UInt32?
    /// The pid in the process's own (innermost) pid namespace, the last field of `NSpid:`: what a
    /// container's own /proc calls it (`/proc/7/status` of itself inside, 41234 on the host).
    public var namespacePID: Int64?

    public init(uid: UInt32? = nil, gid: UInt32? = nil, euid: UInt32? = nil, egid: UInt32? = nil, namespacePID: Int64? = nil) {
        self.uid = uid
        self.gid = gid
        self.euid = euid
        self.egid = egid
        self.namespacePID = namespacePID
    }

    public init(status text: String) {
        self.init()
        for line in text.split(separator: "\n") {
            if line.hasPrefix("Uid:") {
                let ids = Self.ids(line.dropFirst(4))
                uid = ids.first
                euid = ids.count > 1 ? ids[1] : nil
            } else if line.hasPrefix("Gid:") {
                let ids = Self.ids(line.dropFirst(4))
                gid = ids.first
                egid = ids.count > 1 ? ids[1] : nil
            } else if line.hasPrefix("NSpid:") {
                namespacePID = Self.ids(line.dropFirst(6)).last.map(Int64.init)
            }
        }
    }

    /// Whitespace-separated ids; the first one that does not parse ends the list.
    static func ids(_ s: Substring) -> [UInt32] {
        var out: [UInt32] = []
        for field in s.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard let n = UInt32(field) else { break }
            out.append(n)
        }
        return out
    }
}
