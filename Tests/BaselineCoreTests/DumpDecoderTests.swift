import BaselineCore
import Foundation
import Testing

@Suite struct DumpDecoderTests {
    let decoder = DumpDecoder()

    @Test func decodesBaselineJSON() throws {
        let json = #"{"schema":"baseline.activity-dump/v1","id":"d1","workload":{"image_name":"nginx","image_tag":"1.25","container_id":"c1"},"processes":[{"path":"/usr/sbin/nginx","files":[{"path":"/etc/nginx/nginx.conf"}]}]}"#
        let request = try decoder.decode(Array(json.utf8), receivedAt: 1)
        #expect(request.dumpID == "d1")
        #expect(request.profileKey == "nginx")
        #expect(request.dump.workload.imageTag == "1.25")
        #expect(request.dump.processes.first?.files.first?.path == "/etc/nginx/nginx.conf")
    }

    @Test func contentIDIsStableWithoutDumpID() throws {
        let json = #"{"workload":{"image_name":"redis"},"processes":[{"path":"/usr/bin/redis-server"}]}"#
        let a = try decoder.decode(Array(json.utf8), receivedAt: 1)
        let b = try decoder.decode(Array(json.utf8), receivedAt: 2)
        #expect(a.dumpID.hasPrefix("sha256:"))
        #expect(a.dumpID == b.dumpID)
        #expect(a.dump.workload.imageTag == "latest")
    }

    @Test func rejectsGarbageWithReason() {
        #expect(throws: Rejection.self) { try decoder.decode(Array("not json".utf8), receivedAt: 1) }
        do {
            _ = try decoder.decode([], receivedAt: 1)
            Issue.record("empty payload accepted")
        } catch {
            #expect(error.code == "empty_payload")
        }
    }
}
