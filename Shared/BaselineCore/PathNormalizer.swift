/// Reduces ephemeral parts of file paths before merge, so one behaviour is one node:
/// `/proc/<pid>/` → `/proc/self/` (the process's own pid) or `/proc/*/`, `/task/<tid>/` → `/task/*/`,
/// container ids (64 hex) → `*`, kubepods / cri-containerd cgroup slices and scopes, loop and
/// device-mapper devices, and Kubernetes service-account token dates → `*`.
public struct PathNormalizer: Sendable {
    public init() {}

    public func normalize(_ path: String, pid: Int64? = nil) -> String {
        // ASCII paths (nearly all) are split by bytes, and returned as they are when no component
        // changes: splitting by Characters and joining again was a third of the dump-consumer's
        // time. In ASCII a `/` is always a Character of its own, so the components are the same.
        if path.utf8.allSatisfy({ $0 < 0x80 }) {
            var components = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { String(Substring($0)) }
            return reduce(&components, pid: pid) ? components.joined(separator: "/") : path
        }
        return normalizeByCharacters(path, pid: pid)
    }

    /// The general path (and the reference of the ASCII one): components split by Characters.
    func normalizeByCharacters(_ path: String, pid: Int64? = nil) -> String {
        var components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        reduce(&components, pid: pid)
        return components.joined(separator: "/")
    }

    /// Replaces the ephemeral components; whether any changed.
    @discardableResult
    func reduce(_ components: inout [String], pid: Int64?) -> Bool {
        let original = components
        for i in components.indices {
            let c = components[i]
            let previous = i > 0 ? components[i - 1] : ""
            if previous == "proc" && i == 2 && components[0].isEmpty, let n = Int64(c) {
                components[i] = (pid != nil && n == pid!) ? "self" : "*"
            } else if previous == "task", Int64(c) != nil {
                components[i] = "*"
            } else if Self.isContainerID(c) {
                components[i] = "*"
            } else if let reduced = Self.reduceCgroup(c) {
                components[i] = reduced
            } else if previous == "dev" && i == 2, let reduced = Self.reduceDevice(c) {
                components[i] = reduced
            } else if c.hasPrefix("..") && c.count > 2 && c.dropFirst(2).first?.isNumber == true {
                components[i] = "..*"  // service-account token: ..2024_01_03_12_34_56.123456789
            }
        }
        return components != original
    }

    static func isHex(_ s: Substring) -> Bool { s.allSatisfy { $0.isHexDigit } }

    static func isContainerID(_ s: String) -> Bool { s.count == 64 && isHex(Substring(s)) }

    /// `kubepods-burstable-pod<uid>.slice` → `kubepods-burstable-pod*.slice`,
    /// `cri-containerd-<id>.scope` / `docker-<id>.scope` → `cri-containerd-*.scope`, `pod<uid>` → `pod*`.
    static func reduceCgroup(_ c: String) -> String? {
        for suffix in [".scope", ".slice"] where c.hasSuffix(suffix) {
            let body = c.dropLast(suffix.count)
            if let dash = body.lastIndex(of: "-") {
                let tail = body[body.index(after: dash)...]
                if tail.count == 64 && isHex(tail) { return body[...dash] + "*" + suffix }
                if tail.hasPrefix("pod") && tail.count > 3 { return body[...dash] + "pod*" + suffix }
            }
        }
        if c.hasPrefix("pod") && c.count == 39 && c.dropFirst(3).allSatisfy({ $0.isHexDigit || $0 == "-" || $0 == "_" }) { return "pod*" }
        return nil
    }

    /// `/dev/loop12` → `/dev/loop*`, `/dev/dm-3` → `/dev/dm-*`.
    static func reduceDevice(_ c: String) -> String? {
        for prefix in ["loop", "dm-"] where c.hasPrefix(prefix) && c.count > prefix.count && c.dropFirst(prefix.count).allSatisfy(\.isNumber) {
            return prefix + "*"
        }
        return nil
    }
}
