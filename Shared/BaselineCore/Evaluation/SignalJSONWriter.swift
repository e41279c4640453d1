/// Writes a generated signal as Datadog security-event JSON with a fixed member order
/// (no dictionaries are serialised, so the bytes are the same on every run):
/// `{"id","agent":{"rule_id"},"evt":{"name"},"date","process":{…,"ancestors":[…]},`
/// `"file"|"dns"|"bind","container":{"id","created_at"},"tags":[…]}`.
struct SignalJSONWriter {
    /// A process as the signal shows it; `containerID` nil for host processes above the workload.
    struct Process {
        var exe: FleetExe
        var pid: Int64
        var containerID: String?
    }

    enum Event {
        case exec
        case open(path: String)
        case dns(name: String, type: String)
        case bind(ip: String, port: Int)

        var name: String {
            switch self {
            case .exec: "exec"
            case .open: "open"
            case .dns: "dns"
            case .bind: "bind"
            }
        }
    }

    var id: String
    var ruleID: String
    var event: Event
    /// Milliseconds since the epoch.
    var date: Int64
    var process: Process
    /// Nearest parent first; nil writes no `ancestors` member at all.
    var ancestors: [Process]?
    var containerID: String
    /// Milliseconds since the epoch.
    var containerCreatedAt: Int64
    var imageName: String
    var imageTag: String

    func json() -> String {
        var out = "{\"id\":\(Self.string(id)),\"agent\":{\"rule_id\":\(Self.string(ruleID))},\"evt\":{\"name\":\(Self.string(event.name))},"
        out += "\"date\":\(date),\"process\":" + Self.process(process, ancestors: ancestors)
        switch event {
        case .exec: break
        case .open(let path): out += ",\"file\":{\"path\":\(Self.string(path))}"
        case .dns(let name, let type): out += ",\"dns\":{\"question\":{\"name\":\(Self.string(name)),\"type\":\(Self.string(type))}}"
        case .bind(let ip, let port):
            out += ",\"bind\":{\"addr\":{\"ip\":\(Self.string(ip)),\"port\":\(port),\"family\":\"AF_INET\"},\"protocol\":\"tcp\"}"
        }
        out += ",\"container\":{\"id\":\(Self.string(containerID)),\"created_at\":\(containerCreatedAt)}"
        out += ",\"tags\":[" + ["image_name:\(imageName)", "image_tag:\(imageTag)", "container_id:\(containerID)"].map(Self.string)
            .joined(separator: ",") + "]}"
        return out
    }

    static func process(_ p: Process, ancestors: [Process]?) -> String {
        var out = "{\"pid\":\(p.pid),\"argv0\":\(string(p.exe.argv0)),\"args\":[" + p.exe.args.map(string).joined(separator: ",") + "]"
        out += ",\"executable\":{\"path\":\(string(p.exe.path))}"
        if let c = p.containerID { out += ",\"container\":{\"id\":\(string(c))}" }
        if let ancestors { out += ",\"ancestors\":[" + ancestors.map { process($0, ancestors: nil) }.joined(separator: ",") + "]" }
        return out + "}"
    }

    /// A JSON string literal (quotes, backslashes and control characters escaped; `/` kept).
    static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
