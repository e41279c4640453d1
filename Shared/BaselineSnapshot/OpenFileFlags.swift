/// The `flags:` line of `/proc/<pid>/fdinfo/<fd>`: the file's open flags in octal (O_RDONLY,
/// O_WRONLY, O_APPEND, O_CLOEXEC, …), the same bits an agent records at open. Absent or
/// malformed: nil (the file is still reported, with flags 0).
public enum OpenFileFlags {
    public static func parse(fdinfo text: String) -> UInt32? {
        for line in text.split(separator: "\n") where line.hasPrefix("flags:") {
            let value = line.dropFirst("flags:".count).trimmingWhitespace()
            return UInt32(value, radix: 8)
        }
        return nil
    }
}
