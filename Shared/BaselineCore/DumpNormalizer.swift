/// Normalises a decoded dump before merge (pure, deterministic):
/// 1. container-runtime roots (runc, containerd-shim, conmon, …) are dropped: their children become roots;
/// 2. exec children (`is_exec_child`) are re-based onto their parent's parent: exec replaces the
///    process image, so the new program's lineage is the one of the process that exec'd;
/// 3. file paths are reduced (`PathNormalizer`, with each process's own pid);
/// 4. ancestors with the same binary are collapsed (a worker that forks itself adds no lineage);
/// 5. identical siblings are merged, and each process's files / DNS / binds / syscalls are de-duplicated
///    (open flags and modes of one path OR-ed together).
public struct DumpNormalizer: Sendable {
    let paths = PathNormalizer()

    public init() {}

    public func normalize(_ dump: ActivityDump) -> ActivityDump {
        var out = dump
        var roots = dump.processes.flatMap(dropRuntimeRoots)
        roots = rebaseExecChildren(roots).map { root in
            var r = root
            r.isExecChild = false
            return r
        }
        // Paths first: `/proc/<pid>` reduces with each process's own pid, before a forked worker is
        // folded into its parent (whose pid differs).
        roots = roots.map { reducePaths($0) }
        roots = roots.map { collapseSameBinary($0, differentiateArgs: dump.differentiateArgs) }
        out.processes = mergeSiblings(roots, differentiateArgs: dump.differentiateArgs)
        return out
    }

    func dropRuntimeRoots(_ node: ProcessNode) -> [ProcessNode] {
        guard ContainerRuntimes.isRuntime(node.path) else { return [node] }
        return node.children.flatMap(dropRuntimeRoots)
    }

    /// Moves every exec child up to the level of the process it replaced, so chains
    /// A→(exec)B→(exec)C become siblings of A.
    func rebaseExecChildren(_ nodes: [ProcessNode]) -> [ProcessNode] {
        var result: [ProcessNode] = []
        for var node in nodes {
            node.children = rebaseExecChildren(node.children)
            let execs = node.children.filter(\.isExecChild)
            node.children.removeAll(where: \.isExecChild)
            result.append(node)
            for var e in execs {
                // Still an exec child if the process it replaced was one: the chain keeps rising.
                e.isExecChild = node.isExecChild
                result.append(e)
            }
        }
        return result
    }

    /// A child running the same binary as its parent is folded into the parent.
    func collapseSameBinary(_ node: ProcessNode, differentiateArgs: Bool) -> ProcessNode {
        var node = node
        var children: [ProcessNode] = []
        for child in node.children.map({ collapseSameBinary($0, differentiateArgs: differentiateArgs) }) {
            if NodeIdentity.sameProgram((child.path, child.argv0, child.args), (node.path, node.argv0, node.args),
                                        differentiateArgs: differentiateArgs) {
                node.files += child.files
                node.dns += child.dns
                node.binds += child.binds
                node.syscalls += child.syscalls
                node.capabilities += child.capabilities
                children += child.children
            } else {
                children.append(child)
            }
        }
        node.children = children
        return node
    }

    func reducePaths(_ node: ProcessNode) -> ProcessNode {
        var node = node
        node.path = paths.normalize(node.path, pid: node.pid)
        node.files = node.files.map { FileAccess(path: paths.normalize($0.path, pid: node.pid), flags: $0.flags, mode: $0.mode) }
        node.children = node.children.map(reducePaths)
        return node
    }

    /// Identity of a process node among its siblings (domain rules: path, argv0 for multi-call
    /// binaries such as busybox, args only when the dump differentiates them).
    public static func identity(of node: ProcessNode, differentiateArgs: Bool) -> String {
        NodeIdentity.process(path: node.path, argv0: node.argv0, args: node.args, differentiateArgs: differentiateArgs)
    }

    func mergeSiblings(_ nodes: [ProcessNode], differentiateArgs: Bool) -> [ProcessNode] {
        var order: [String] = []
        var byKey: [String: ProcessNode] = [:]
        for node in nodes {
            let key = Self.identity(of: node, differentiateArgs: differentiateArgs)
            if var existing = byKey[key] {
                existing.files += node.files
                existing.dns += node.dns
                existing.binds += node.binds
                existing.syscalls += node.syscalls
                existing.capabilities += node.capabilities
                existing.children += node.children
                byKey[key] = existing
            } else {
                order.append(key)
                byKey[key] = node
            }
        }
        return order.map { key in
            var n = byKey[key]!
            n.files = Self.dedupFiles(n.files)
            n.dns = Self.dedup(n.dns)
            n.binds = Self.dedup(n.binds)
            n.syscalls = Self.dedup(n.syscalls)
            n.capabilities = Self.dedup(n.capabilities)
            n.children = mergeSiblings(n.children, differentiateArgs: differentiateArgs)
            return n
        }
    }

    static func dedup<T: Hashable>(_ items: [T]) -> [T] {
        var seen = Set<T>()
        return items.filter { seen.insert($0).inserted }
    }

    static func dedupFiles(_ files: [FileAccess]) -> [FileAccess] {
        var order: [String] = []
        var byPath: [String: FileAccess] = [:]
        for f in files {
            if var e = byPath[f.path] {
                e.flags |= f.flags
                e.mode |= f.mode
                byPath[f.path] = e
            } else {
                order.append(f.path)
                byPath[f.path] = f
            }
        }
        return order.map { byPath[$0]! }
    }
}

/// Multi-call binaries whose behaviour depends on argv0 (busybox-style).
public enum MultiCallBinaries {
    public static let names: Set<String> = ["busybox", "toybox", "coreutils"]
    public static func isMultiCall(_ path: String) -> Bool {
        if let name = asciiLastComponent(path) { return names.contains(name) }
        return names.contains(path.split(separator: "/").last.map(String.init) ?? path)
    }

    /// The last non-empty `/`-separated component (the whole path when there is none), by bytes
    /// for an ASCII path: splitting into an array of substrings was 8 % of the enricher's time.
    /// nil for other paths, which keep the Character rules (a prepended mark joins a `/` into
    /// one Character that does not split).
    static func asciiLastComponent(_ path: String) -> String? {
        var result: String?
        var ascii = true
        path.utf8.withContiguousStorageIfAvailable { u in
            guard u.allSatisfy({ $0 < 0x80 }) else { ascii = false; return }
            var end = u.count
            while end > 0 && u[end - 1] == UInt8(ascii: "/") { end -= 1 }
            guard end > 0 else { result = path; return }
            var start = end
            while start > 0 && u[start - 1] != UInt8(ascii: "/") { start -= 1 }
            result = String(decoding: UnsafeBufferPointer(rebasing: u[start..<end]), as: UTF8.self)
        }
        return ascii ? result : nil
    }
}
