import BaselineCore
@testable import BaselineSnapshot
import Foundation
import Testing

/// What `baseline snapshot` writes and when: file names, atomic writes, the round schedule, notes.
@Suite struct SnapshotOutputTests {
    func dump(image: String, service: String? = nil, container: String? = nil) -> SnapshotDump {
        SnapshotDump(id: "d", workload: Workload(imageName: image, imageTag: "1", service: service, containerID: container, host: "h"),
                     start: 1_800_000_000_000_000_000, end: 1_800_000_000_000_000_001, processes: [])
    }

    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("snapshot-out-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func longNamesAreCappedAndStayApart() {
        let long = String(repeating: "n", count: 250)
        let a = SnapshotFiles.fileName(dump(image: long, service: long))
        let b = SnapshotFiles.fileName(dump(image: long + "x", service: long))
        #expect(a.utf8.count <= 255 && b.utf8.count <= 255)
        #expect(a != b)
        // An image name of 4096 bytes too (registry paths).
        #expect(SnapshotFiles.fileName(dump(image: String(repeating: "r/", count: 2048))).utf8.count <= 255)
        // Short names are as before; nothing leaves the directory.
        #expect(SnapshotFiles.fileName(dump(image: "nginx", container: "abc")) == "nginx-abc-1800000000000000000.json")
        #expect(SnapshotFiles.fileName(dump(image: "../../etc/x", container: "c")) == "_._.._etc_x-c-1800000000000000000.json")
    }

    @Test func writesAreAtomicAndNeverFollowALink() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let victim = dir + "/victim"
        _ = FileManager.default.createFile(atPath: victim, contents: Data("keep".utf8))
        try FileManager.default.createSymbolicLink(atPath: dir + "/out.json", withDestinationPath: victim)
        try SnapshotFiles.write(Array("{}".utf8), directory: dir, name: "out.json")
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: victim)), as: UTF8.self) == "keep")
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/out.json")), as: UTF8.self) == "{}")
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["out.json", "victim"])
    }

    @Test func aWriteErrorIsAnErrorNotACrash() {
        #expect(throws: SnapshotFiles.WriteError.self) {
            try SnapshotFiles.write([1], directory: "/nonexistent-dir-\(UUID().uuidString)", name: "x.json")
        }
        do throws(SnapshotFiles.WriteError) {
            try SnapshotFiles.write([1], directory: "/nonexistent-dir", name: String(repeating: "n", count: 300))
        } catch {
            #expect(error.errno == ENAMETOOLONG || error.errno == ENOENT)
        }
    }

    @Test func roundsRunFromTheStartWithoutDrift() {
        let s = SnapshotSchedule(start: 1_000, interval: 100)
        func next(_ tick: Int64, _ now: Int64) -> [Int64] {
            let n = s.next(after: tick, now: now)
            return [n.at, Int64(n.skipped)]
        }
        // A round that took 30: the next one is at start + 100, not at its end + 100.
        #expect(next(1_000, 1_030) == [1_100, 0])
        #expect(next(1_100, 1_199) == [1_200, 0])
        // A round that overran two ticks skips them.
        #expect(next(1_200, 1_450) == [1_500, 2])
        #expect(next(1_000, 1_100) == [1_200, 1])
    }

    @Test func repeatedNotesAreSaidOnce() {
        var notes = NoteDeduplicator()
        #expect(notes.fresh(["a", "b"]) == ["a", "b"])
        #expect(notes.fresh(["a", "b"]) == [])
        #expect(notes.fresh(["a"]) == ["a"])
        #expect(notes.fresh([]) == [])
        #expect(notes.fresh(["a"]) == ["a"])
    }
}
