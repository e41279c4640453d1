import BaselineSnapshot
import Foundation

/// The captured /proc tree of `Fixtures/` laid out in a temporary directory with its links
/// (`links.tsv`), and the regular files its fds point to under `files/`.
struct FakeProc {
    let directory: URL
    var root: String { directory.appendingPathComponent("proc").path }
    var files: String { directory.appendingPathComponent("files").path }

    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    init() throws {
        let fm = FileManager.default
        directory = fm.temporaryDirectory.appendingPathComponent("fake-proc-\(UUID().uuidString)")
        try fm.createDirectory(at: directory.appendingPathComponent("files"), withIntermediateDirectories: true)
        try fm.copyItem(at: Self.fixtures.appendingPathComponent("proc"), to: directory.appendingPathComponent("proc"))
        // Every process has an fd directory, empty when it holds nothing (git keeps no empty directory).
        for name in try fm.contentsOfDirectory(atPath: root) where Int(name) != nil {
            try fm.createDirectory(atPath: root + "/" + name + "/fd", withIntermediateDirectories: true)
        }
        let links = try String(contentsOf: Self.fixtures.appendingPathComponent("links.tsv"), encoding: .utf8)
        for line in links.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let link = directory.appendingPathComponent("proc").appendingPathComponent(parts[0])
            var target = parts[1]
            if target.hasPrefix("@") {
                target = directory.appendingPathComponent("files").appendingPathComponent(String(target.dropFirst())).path
                if !fm.fileExists(atPath: target) { _ = fm.createFile(atPath: target, contents: Data("x".utf8)) }
            }
            try fm.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fm.createSymbolicLink(atPath: link.path, withDestinationPath: target)
        }
    }

    func file(_ name: String) -> String { files + "/" + name }

    func reader(limits: SnapshotLimits = SnapshotLimits()) -> ProcReader {
        // The captured start times are ticks of a 100 Hz clock.
        ProcReader(fs: ProcFileSystem(root: root), limits: limits, ticksPerSecond: 100)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
