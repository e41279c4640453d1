#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A shell pattern (`*`, `?`, `[…]`) as fnmatch(3) reads it, without FNM_PATHNAME: `*` also
/// crosses `/`, so `*nginx*` matches `/usr/sbin/nginx` and `*/docker-*.scope` a whole cgroup path.
public struct Glob: Hashable, Sendable, CustomStringConvertible {
    public let pattern: String

    public init(_ pattern: String) {
        self.pattern = pattern
    }

    public func matches(_ text: String) -> Bool {
        fnmatch(pattern, text, 0) == 0
    }

    public var description: String { pattern }
}
