/// An image name and tag a workload is given.
public struct ImageName: Hashable, Sendable {
    public var name: String
    public var tag: String?

    public init(name: String, tag: String? = nil) {
        self.name = name
        self.tag = tag
    }

    /// `nginx`, `nginx:1.25`, `registry:5000/team/app:2.0`: the tag is after the last `:` that
    /// follows the last `/` (a registry port is not a tag).
    public init?(parsing text: Substring) {
        let slash = text.lastIndex(of: "/") ?? text.startIndex
        if let colon = text[slash...].lastIndex(of: ":") {
            let name = text[..<colon], tag = text[text.index(after: colon)...]
            guard !name.isEmpty, !tag.isEmpty else { return nil }
            self.init(name: String(name), tag: String(tag))
        } else {
            guard !text.isEmpty else { return nil }
            self.init(name: String(text))
        }
    }
}

/// Names workloads from their cgroup path: a file of `PATTERN IMAGE[:TAG]` lines, first match
/// wins. PATTERN is a shell glob over the whole cgroup path (`*` crosses `/`); `#` starts a
/// comment; blank lines are ignored. A pattern may not contain whitespace (the image is the last
/// field of the line).
///
///     # cgroup pattern                                   image[:tag]
///     */docker-3f4e5a*.scope                              nginx:1.25
///     */kubepods-burstable-pod5c1d*/cri-containerd-*      web
///     /system.slice/postgresql@*.service                  postgres:15
public struct ImageMapping: Hashable, Sendable {
    public struct Rule: Hashable, Sendable {
        public var pattern: Glob
        public var image: ImageName
    }

    public var rules: [Rule]

    public init(rules: [Rule] = []) {
        self.rules = rules
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    public init(parsing text: String) throws(ParseError) {
        var rules: [Rule] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 2 else {
                throw ParseError(line: index + 1, reason: "expected `PATTERN IMAGE[:TAG]`, found \(fields.count) field(s)")
            }
            guard let image = ImageName(parsing: fields[1]) else {
                throw ParseError(line: index + 1, reason: "'\(fields[1])' is not an image name")
            }
            rules.append(Rule(pattern: Glob(String(fields[0])), image: image))
        }
        self.init(rules: rules)
    }

    /// The image of the first rule whose pattern matches the cgroup path.
    public func image(forCgroup path: String) -> ImageName? {
        rules.first { $0.pattern.matches(path) }?.image
    }
}
