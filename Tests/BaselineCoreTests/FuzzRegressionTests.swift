@testable import BaselineCore
import Foundation
import Testing

/// One test per crash, hang or unsafe acceptance found by fuzzing the decoders (scripts/fuzz,
/// docs/reliability.md) or by the review that preceded it, with the input inline. Each input must
/// now either decode or be rejected with a `Rejection`, and what decodes must normalise and key.
@Suite struct FuzzRegressionTests {
    let decoder = DumpDecoder()

    /// Decodes as the dump-consumer does, then normalises and keys what decoded; the rejection code or nil.
    func dumpCode(_ bytes: [UInt8], contentType: String? = nil) -> String? {
        do {
            let r = try decoder.decode(bytes, contentType: contentType, receivedAt: 1)
            _ = ProfileNodeKey.nodes(of: DumpNormalizer().normalize(r.dump))
            return nil
        } catch {
            #expect(!error.reason.isEmpty)
            return error.code
        }
    }

    func signalCode(_ bytes: [UInt8]) -> String? {
        do {
            let s = try SecuritySignal.parse(bytes)
            _ = SignalActivity(signal: s)?.key()
            _ = try? SecuritySignal.appendingBaseline(.noProfile(workload: s.workload), to: bytes)
            return nil
        } catch {
            #expect(!error.reason.isEmpty)
            return error.code
        }
    }

    func datadog(metadata: String) -> [UInt8] {
        Array(#"{"metadata":\#(metadata),"tags":["image_name:app"],"tree":[{"process":{"file":{"path":"/bin/app"}}}]}"#.utf8)
    }

    // MARK: outside timestamps

    /// Review: `DatadogDump.timestamp` converted an RFC 3339 date past 2262 with
    /// `Int64(d.timeIntervalSince1970 * 1e9)`, which traps ("Double value cannot be converted to
    /// Int64 because the result would be greater than Int64.max"). Such a date now reads as absent.
    @Test func rfc3339DatesOutsideNanosecondRangeReadAsAbsent() throws {
        for date in ["9999-12-31T23:59:59Z", "2262-04-12T00:00:00Z", "2263-01-01T00:00:00.5Z", "1600-01-01T00:00:00Z"] {
            let r = try decoder.decode(datadog(metadata: #"{"start":"\#(date)","end":"\#(date)"}"#), receivedAt: 1)
            #expect(r.dump.start == nil && r.dump.end == nil, "\(date)")
        }
        let ok = try decoder.decode(datadog(metadata: #"{"start":"2200-01-01T00:00:00Z"}"#), receivedAt: 1)
        #expect(ok.dump.start == 7_258_118_400_000_000_000)
    }

    /// Numbers that do not fit the field's type (huge, negative, fractional, out of Int64) read as
    /// absent or wrap as the protobuf runtimes do; none traps.
    @Test func outOfRangeNumbersNeverTrap() {
        for n in ["1e300", "-1e300", "18446744073709551615", "18446744073709551616", "-9223372036854775809", "1.5", "-0", "1e-300"] {
            let process = #"{"process":{"pid":\#(n),"file":{"path":"/bin/app"}},"files":[{"name":"a","open":{"flags":\#(n),"mode":\#(n)}}],"#
                + #""sockets":[{"bind":[{"port":\#(n),"protocol":\#(n)}]}],"dns_names":[{"requests":[{"name":"x","type":\#(n)}]}],"#
                + #""syscalls":[\#(n)],"syscall_nodes":[{"syscall":\#(n)}],"capability_nodes":[{"capability":\#(n)}]}"#
            let dd = #"{"metadata":{"start":\#(n),"end":"\#(n)"},"tags":["image_name:app"],"tree":[\#(process)]}"#
            #expect(dumpCode(Array(dd.utf8)) == nil, "\(n)")
            let baseline = #"{"workload":{"image_name":"app","container_created_at":\#(n)},"start":\#(n),"#
                + #""processes":[{"path":"/a","pid":\#(n),"binds":[{"port":\#(n)}],"files":[{"path":"/f","flags":\#(n)}]}]}"#
            _ = dumpCode(Array(baseline.utf8))  // decodes or invalid_field: either is fine, a trap is not
            let signal = #"{"evt":{"name":"bind"},"date":\#(n),"container":{"created_at":\#(n)},"process":{"pid":\#(n)},"#
                + #""bind":{"addr":{"port":\#(n),"ip":"0.0.0.0"}},"file":{"flags":\#(n)}}"#
            #expect(signalCode(Array(signal.utf8)) == nil, "\(n)")
        }
    }

    /// A libFuzzer artifact (fuzz-dump's input format: a first byte 0x01/0x02/0x03 claims a JSON,
    /// protobuf or other content type and is dropped; any other first byte is part of the dump).
    func artifact(_ base64Lines: [String]) throws -> (bytes: [UInt8], contentType: String?) {
        let bytes = Array(try #require(Data(base64Encoded: base64Lines.joined())))
        switch bytes.first {
        case 0x01: return (Array(bytes.dropFirst()), "application/json")
        case 0x02: return (Array(bytes.dropFirst()), "application/x-protobuf")
        case 0x03: return (Array(bytes.dropFirst()), "application/octet-stream")
        default: return (bytes, nil)
        }
    }

    /// scripts/fuzz, fuzz-dump, 2,645 runs (before the fix): a Datadog dump whose `metadata.end`
    /// is `1012-11-29T07:11:40.123456789Z` trapped in `Int64(d.timeIntervalSince1970 * 1e9)`
    /// ("Double value cannot be converted to Int64 because the result would be less than Int64.min").
    @Test func fuzzDumpCrash47aacf68DateBeforeInt64Range() throws {
        let (bytes, type) = try artifact([
            "eyJob3N0Ijoibm9kZS0xIiwic2VydmljZSI6ImFwaSIsIm1ldGFkYXRhIjp7Im5hbWUiOiJkZC1yZmMzMzM5IiwiY29udGFpbmVy",
            "X2lkIjoiYzEiLCJzdGFydCI6IjIwMjUtMTEtMjlUMDc6MDY6NDBaIiwiZW5kIjoiMTAxMi0xMS0yOVQwNzoxMTo0MC4xMjM0NTY3",
            "ODlaIiwiZGlmZmVyZS1DU250aWF0ZV9hcmdzIjp0cnVlfSwKICJ0YWdzIjpbImltYWdlX25hbWU6YXBpIiwiaW1hZ2VfLTFlMzA4",
            "MSIsImt1YmVfbmFtZXNwYWNlOnByb2QiLCJrdWJlX2NsdXN0ZXJfbmFtZTpldSJdLAogInRyZWUiOlt7InByb2Nlc3MiOnsicGlk",
            "IjoxLCJmaWxlIjp7InBhdGgiOiIvdXNyL2Jpbi9hcGkifSwiYXJncyI6WyItLXBvcnQiLCI4MDgwIl0sImNvbW0iOiJhcGkifSwi",
            "Z2VuZXJhdGlvbl90eXBlIjoiUlVOVElNRSIsCiAgICJmaWxlcyI6W3sibmFtZSI6ImV0YyIsImNoaWxkcmVuIjpbeyJuYW1lIjoi",
            "YXBpLmNvbmYiLCJvcGVuIjp7ImZsYWdzIjoiMCIsIm1vZGUiOjQyMCwicmV0dmFsIjoiMCJ9LCJmaWxlIjp7InBhdGgiOiIvZXRj",
            "L2FwaS5jb25mIn19XX0sCiAgICAgICAgICAgIHsibmFtZSI6InByb2MiLCJjaGlsZHJlbiI6W3sibmFtZSI6IjEiLCJjaGlsZHJl",
            "biI6W3sibmFtZSI6InN0YXR1cyIsIm9wZW4iOnsiZmxhZ3MiOjF9fV19XX1dLAogICAiZG5zX25hbWVzIjpbeyJyZXF1ZXN0cyI6",
            "W3sibmFtZSI6ImRiLnN2YyIsInR5cGUiOjI4fSx7Im5hbWUiOiJjYWNoZS5zdmMiLCJ0eXBlIjoiQUFBQSJ9XX1dLAogICAic29j",
            "a2V0cyI6W3siZmFtaWx5IjoiQUZfSU5FVDYiLCJiaW5kIjpbeyJwb3J0Ijo4MDgwLCJwcm90b2NvbCI6InVkcCIsImlwIjoiOjoi",
            "fV19LHsiYmluZCI6W3sicG9ydCI6IjkwOTAiLCJwcm90b2NvbCI6Nn1dfV0sCiAgICJzeXNjYWxscyI6WzAsMSwib3BlbmF0Il0s",
            "InN5c2NhbGxfbm9kZXMiOlt7InN5c2NhbGwiOjQyfSx7InN5c2NhbGwiOm51bGx9XSwiY2FwYWJpbGl0eV9ub2RlcyI6W3siY2Fw",
            "YWJpbGl0eSI6IjEwIiwiaXNfY2FwYWJsZSI6dHJ1ZX0se31dLAogICAiY2hpbGRyZW4iOlt7InByb2Nlc3MiOnsiZmlsZSI6eyJw",
            "YXRoIjoiL2Jpbi9idXN5Ym94In0sImFyZ3YwIjoid2dldCIsImlzX2V4ZWNfY2hpbGQiOnRydWV9fSwKICAgICAgICAgICAgICAg",
            "eyJwcm9jZXNzIjp7ImNvbW0iOiJ3b3JrZXIiLCJwaWQiOiI0Mjk0OTY3Mjk1In19XX1dfQo=",
        ])
        let r = try decoder.decode(bytes, contentType: type, receivedAt: 1)
        #expect(r.dump.start == 1_764_400_000_000_000_000 && r.dump.end == nil)
        _ = ProfileNodeKey.nodes(of: r.dump)
    }

    /// scripts/fuzz, fuzz-dump, 51,231 runs (after the Int64 fix): `metadata.end` with a fraction of
    /// 40 digits (`…07:11:40.12345699999999999999999999999999999789Z`) crashed the process with SIGFPE
    /// inside ICU's `SimpleDateFormat::subParse`, reached through `ISO8601DateFormatter`. Outside
    /// dates are now parsed by `Timestamps.rfc3339`, which never calls ICU.
    @Test func fuzzDumpCrash8ecb9eb9LongFractionCrashedICU() throws {
        let (bytes, type) = try artifact([
            "AXsiaG9zdCI6Im5vZGUtMSIsInNlcnZpY2UiOiJhcGkiLCJtZXRhZGF0YSI6eyJuYW0yIjoiZGQtcmZjMzMzOSIsImNvbnRhaW5l",
            "cl9pZCI6ImMxIiwic3RhcnQiOiIyMDI1LTExLTI5VDA3OjA2OjQwWiIsImVuZCI6IjIwMjUtMTEtMjlUMDc6MTE6NDAuMTIzNDU2",
            "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5Nzg5WiIsImRpZmZlcmVudGlhdGVfYXJncyI6dHJ1ZX0sCiAidGFnbiI6WyJp",
            "bWFnZV9uYW1lOmFwaSIsImltYWdlX3RhZzoyLjEiLCJrdWJlX25hbWVzcGFjZTpwcm9kIiwia3ViZV9jbHVzdGVyX25hbWU6ZXUi",
            "XSwKICJ0cmVlIjpbeyJwcm9jZXNzIjp7InBpZCI6MSwiZmlsZSI6eyJwYXRoIjoiL3Vzci9iaW4vYXBpIn0sImFyZ3MiOlsiLS1w",
            "b3J0IiwiODA4MCJdLCJjb21tIjoiYXBpIn0sImdlbmVyYXRpb25fdHlwZSI6IlJVTlRJTUUiLAogICAiZmlsZXMiOlt7Im5hbWUi",
            "OiJldGMiLCJjaGlsZHJlbiI6W3sibmFtZSI6ImFwaS5jb25mIiwib3BlbiI6eyJmbGFncyI6IjAiLCJtb2RlIjo0MjAsInJldHZh",
            "bCI6IjAifSwiZmlsZSI6eyJwYXRoIjoiL2V0Yy9hcGkuY29uZiJ9fV19LAogICAgICAgICAgICB7Im5hbWUiOiJwcm9jIiwiY2hp",
            "bGRyZW4iOlt7Im5hbWUiOiIxIiwiY2hpbGRlZW4iOlt7Im5hbWUiOiJzdGF0dXMiLCJvcGVuIjp7ImZsYWdzIjoxfX1dfV19XSwK",
            "ICAgImRuc19uYW1lcyI6W3sicmVxdWVzdHMiOlt7Im5hbWUiOiJkYi5zdmMiLCJ0eXBlIjoyOH0seyJuYW1lIjoiY2FjaGUuc3Zj",
            "IiwidHlwZSI6IkFBQUEifV19XSwKICAgInNvY2tldHMiOlt7ImZhbWlseSI6IkFGX0lORVQ2IiwiYmluZCI6W3sicG9ydCI6ODA4",
            "MCwicHJvdG9jb2wiOiJ1ZHAiLCJpcCI6Ijo6In1dfSx7ImJpbmQiOlt7InBvcnQiOiI5MDkwIiwicHJvdG9jb2wiOjZ9XX1dLAog",
            "ICAic3lzY2FsbHMiOlswLDEsIm9wZW5hdCJdLCJzeXNjYWxsX25vZGVzIjpbeyJzeXNjYWxsIjo0Mn0seyJzeXNjYWxsIjpudWxs",
            "fV0sImNhcGFiaWxpdHlfbm9kZXMiOlt7ImNhcGFiaWxpdHkiOiIxMCIsImlzX2NhcGFibGUiOnRydWV9LHt9XSwKICAgImNoaWxk",
            "cmVuIjpbeyJwcm9jZXNzIjp7ImZpbGUiOnsicGF0aCI6Ii9iaW4vYnVzeWJveCJ9LCJhcmd2MCI6IndnZXQiLCJpc19leGVjX2No",
            "aWxkIjp0cnVlfX0sCiAgICAgICAgICAgICAgIHsicHJvY2VzcyI6eyJjb21tIjoid29ya2VyIiwicGlkIjoiNDI5NDk2NzI5NSJ9",
            "fV19XX0K",
        ])
        #expect(type == "application/json")
        let r = try decoder.decode(bytes, contentType: type, receivedAt: 1)
        #expect(r.dump.start == 1_764_400_000_000_000_000)
        #expect(r.dump.end == 1_764_400_300_123_456_999)  // digits past the ninth are dropped
        // The same date in a signal (`date`, `container.created_at` go through the same parser).
        let long = "2025-11-29T07:11:40." + String(repeating: "9", count: 5000) + "Z"
        let signal = try SecuritySignal.parse(Array(#"{"evt":{"name":"exec"},"date":"\#(long)","container":{"created_at":"\#(long)"}}"#.utf8))
        #expect(signal.date == 1_764_400_300_999_999_999 && signal.containerCreatedAt == signal.date)
    }

    @Test func rfc3339ParserIsExactAndStrict() {
        let t = Timestamps.rfc3339
        #expect(t("1970-01-01T00:00:00Z") == 0)
        #expect(t("2025-11-29T07:06:40Z") == 1_764_400_000_000_000_000)
        #expect(t("2025-11-29t07:06:40z") == 1_764_400_000_000_000_000)
        #expect(t("2025-11-29 07:06:40Z") == 1_764_400_000_000_000_000)
        #expect(t("2025-11-29T09:36:40+02:30") == 1_764_400_000_000_000_000)
        #expect(t("2025-11-29T04:06:40-03:00") == 1_764_400_000_000_000_000)
        #expect(t("2025-11-29T07:06:40.5Z") == 1_764_400_000_500_000_000)
        #expect(t("2025-11-29T07:06:40.000000001Z") == 1_764_400_000_000_000_001)
        #expect(t("2025-11-29T07:06:40.1234567891234Z") == 1_764_400_000_123_456_789)
        #expect(t("2024-02-29T00:00:00Z") == 1_709_164_800_000_000_000)
        #expect(t("2016-12-31T23:59:60Z") == t("2017-01-01T00:00:00Z"))  // a leap second
        #expect(t("1969-12-31T23:59:59.5Z") == -500_000_000)
        // The Int64 range of nanoseconds, to the nanosecond.
        #expect(t("2262-04-11T23:47:16.854775807Z") == Int64.max)
        #expect(t("2262-04-11T23:47:16.854775808Z") == nil)
        #expect(t("1677-09-21T00:12:43.145224192Z") == Int64.min)
        #expect(t("1677-09-21T00:12:43.145224191Z") == nil)
        #expect(t("9999-12-31T23:59:59Z") == nil && t("0000-01-01T00:00:00Z") == nil)
        for bad in ["", "2025-11-29", "2025-11-29T07:06:40", "2025-11-29T07:06:40.Z", "2025-11-29T07:06:40Z ", " 2025-11-29T07:06:40Z",
                    "2025-02-29T00:00:00Z", "2025-13-01T00:00:00Z", "2025-00-01T00:00:00Z", "2025-11-31T00:00:00Z",
                    "2025-11-00T00:00:00Z", "2025-11-29T24:00:00Z", "2025-11-29T07:60:00Z", "2025-11-29T07:06:61Z",
                    "2025-11-29T07:06:40+24:00", "2025-11-29T07:06:40+0200", "+2025-11-29T07:06:40Z", "2025-11-29T07:06:40ZZ",
                    "2025-1-29T07:06:40Z", "2025-11-29T07:06:4Z0", "２０２５-11-29T07:06:40Z", "2025-11-29T07:06:40.\u{0}Z"] {
            #expect(t(bad) == nil, "\(bad)")
        }
    }

    // MARK: NUL in strings (PostgreSQL text and jsonb cannot store it)

    @Test func nulInADumpStringIsRejectedAtTheEdge() {
        let nul = #"\u0000"#
        let baselineCases = [
            #"{"workload":{"image_name":"app"},"processes":[{"path":"/bin/a\#(nul)b"}]}"#,
            #"{"workload":{"image_name":"app\#(nul)"},"processes":[{"path":"/bin/a"}]}"#,
            #"{"workload":{"image_name":"app","host":"h\#(nul)"},"processes":[{"path":"/bin/a"}]}"#,
            #"{"id":"d\#(nul)","workload":{"image_name":"app"},"processes":[{"path":"/bin/a"}]}"#,
            #"{"workload":{"image_name":"app"},"processes":[{"path":"/bin/a","args":["\#(nul)"]}]}"#,
            #"{"workload":{"image_name":"app"},"processes":[{"path":"/bin/a","argv0":"\#(nul)"}]}"#,
            #"{"workload":{"image_name":"app"},"processes":[{"path":"/bin/a","files":[{"path":"/etc/\#(nul)"}]}]}"#,
            #"{"workload":{"image_name":"app"},"processes":[{"path":"/bin/a","dns":[{"name":"a\#(nul).com"}]}]}"#,
            #"{"workload":{"image_name":"app"},"processes":[{"path":"/bin/a","binds":[{"port":1,"ip":"\#(nul)"}]}]}"#,
            #"{"workload":{"image_name":"app"},"processes":[{"path":"/bin/a","syscalls":["open\#(nul)"]}]}"#,
            #"{"workload":{"image_name":"app"},"processes":[{"path":"/bin/a","children":[{"path":"/bin/\#(nul)"}]}]}"#,
        ]
        for json in baselineCases { #expect(dumpCode(Array(json.utf8)) == "invalid_string", "\(json)") }
        let dd = #"{"tags":["image_name:app"],"tree":[{"process":{"file":{"path":"/bin/app"}},"files":[{"name":"a\#(nul)"}]}]}"#
        #expect(dumpCode(Array(dd.utf8)) == "invalid_string")
        // Binary protobuf: a NUL byte is valid UTF-8, so the string reader lets it through to the check.
        var w = ProtobufWriter()
        w.string(SecDumpField.SecDump.tags, "image_name:app")
        w.message(SecDumpField.SecDump.tree) { n in
            n.message(SecDumpField.ProcessActivityNode.process) { p in
                p.message(SecDumpField.ProcessInfo.file) { f in f.string(SecDumpField.FileInfo.path, "/bin/a\u{0}") }
            }
        }
        #expect(dumpCode(w.bytes, contentType: "application/x-protobuf") == "invalid_string")
        // Other control characters are stored fine: only NUL is refused.
        #expect(dumpCode(Array(#"{"workload":{"image_name":"app"},"processes":[{"path":"/bin/a\u0001\t"}]}"#.utf8)) == nil)
    }

    @Test func nulInASignalIsRejectedAtTheEdge() throws {
        let nul = #"\u0000"#
        let cases = [
            #"{"evt":{"name":"exec\#(nul)"}}"#,
            #"{"evt":{"name":"exec"},"process":{"executable":{"path":"/bin/a\#(nul)b"}}}"#,
            #"{"evt":{"name":"exec"},"process":{"args":["-c","\#(nul)"]}}"#,
            #"{"evt":{"name":"exec"},"process":{"ancestors":[{"executable":{"path":"/bin/\#(nul)"}}]}}"#,
            #"{"evt":{"name":"exec"},"process":{"parent":{"file":{"path":"/bin/sh"},"argv0":"\#(nul)"}}}"#,
            #"{"evt":{"name":"open"},"file":{"path":"/etc/\#(nul)"}}"#,
            #"{"evt":{"name":"dns"},"dns":{"question":{"name":"a\#(nul).com"}}}"#,
            #"{"evt":{"name":"bind"},"bind":{"addr":{"ip":"\#(nul)","port":80}}}"#,
            #"{"evt":{"name":"exec"},"container":{"id":"c\#(nul)"}}"#,
            #"{"evt":{"name":"exec"},"agent":{"rule_id":"r\#(nul)"}}"#,
            #"{"evt":{"name":"exec"},"tags":["image_name:ng\#(nul)inx"]}"#,
            #"{"id":"\#(nul)","evt":{"name":"exec"}}"#,
        ]
        for json in cases { #expect(signalCode(Array(json.utf8)) == "invalid_string", "\(json)") }
        // NUL in a field Baseline does not read is the signal's own business: it passes through untouched.
        #expect(signalCode(Array(#"{"evt":{"name":"exec"},"title":"a\#(nul)b"}"#.utf8)) == nil)
        #expect(signalCode(try fixture("examples/signals/nginx-exec.json")) == nil)
    }

    // MARK: enriched signals

    /// scripts/fuzz, fuzz-signal, 6,201 runs: examples/signals/nginx-exec.json with `],}` at its
    /// end. Foundation's parser accepts the trailing comma, and appendingBaseline added a second
    /// one (`],,"baseline":…`): the enriched signal was no longer JSON.
    @Test func fuzzSignalCrash3342c5dfTrailingCommaStaysJSONWhenEnriched() throws {
        let (bytes, type) = try artifact([
            "ewogImFnZW50IjogewogICJydWxlX2lkIjogInNoZWxsX3NwYXduZWQiLAogICJwb2xpY3lfbmFtZSI6ICJkZWZhdWx0IgogfSwK",
            "ICJ0aXRsZSI6ICJQcm9jZXNzIGV4ZWN1dGVkIGJ5IG5naW54IiwKICJldnQiOiB7CiAgIm5hbWUiOiAiZXhlYyIsCiAgImNhdGVn",
            "b3J5IjogIlByb2Nlc3MgQWN0aXZpdHkiCiB9LAogInByb2Nlc3MiOiB7CiAgInBpZCI6IDQyNDIsCiAgImV4ZWN1dGFibGUiOiB7",
            "CiAgICJwYXRoIjogIi91c3Ivc2Jpbi9uZ2lueCIsCiAgICJuYW1lIjogIm5naW54IgogIH0sCiAgImFyZ3MiOiBbCiAgICItZyIs",
            "CiAgICJkYWVtb24gb2ZmOyIKICBdLAogICJjb250YWluZXIiOiB7CiAgICJpZCI6ICJjMGZmZWUwMSIKICB9LAogICJhbmNlc3Rv",
            "cnMiOiBbCiAgIHsKICAgICJleGVjdXRhYmxlIjogewogICAgICJwYXRoIjogIi91c3IvYmluL2NvbnQ/aW5lcmQtc2hpbS1ydW5j",
            "LXYyIiwKICAgICAibmFtZSI6ICJjb250YWluZXJkLXNoaW0tcnVuYy12MiIKICAgIH0KICAgfQogIF0KIH0sCiAiY29udGFpbmVy",
            "IjogewogICJpZCI6ICJjMGZmZWUwMSIKIH0sCiAidGFncyI6IFsKICAiaW1hZ2VabmFtZTpuZ2lueCIsCiAgImltYWdlX3RhZzox",
            "LjI1IiwKICAic2VydmljZTp3ZWIiCiBdLH0=",
        ])
        #expect(type == nil)
        #expect(signalCode(bytes) == nil)
        for original in [bytes, Array(#"{"evt":{"name":"exec"},}"#.utf8), Array("{\"evt\":{\"name\":\"exec\"} ,\n }\n".utf8),
                         Array(#"{"evt":{"name":"exec"}}"#.utf8), Array("{ }".utf8), Array("{}".utf8)] {
            let out = try SecuritySignal.appendingBaseline(.noProfile(workload: nil), to: original)
            let object = try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any]
            #expect(object?["baseline"] != nil, "\(String(decoding: out, as: UTF8.self))")
            let close = try #require(original.lastIndex(of: UInt8(ascii: "}")))
            #expect(out.starts(with: original[..<close]))  // the original's bytes stay as they were
        }
    }

    // MARK: amplification (bounded before the object graph is built)

    /// Measured while fuzzing (not a libFuzzer finding: inputs this large are past -max_len):
    /// 16 MiB of packed syscalls took 1.1 GB and 10 s, and 64 KiB of gzip (64 MiB of `1,1,…`)
    /// 2.8 GB and 12 s, before the limits rejected them. Both now stop before allocating.
    @Test func packedSyscallsAndHugeArraysAreRejectedBeforeTheyAreBuilt() {
        func pb(_ build: (inout ProtobufWriter) -> Void) -> [UInt8] {
            var w = ProtobufWriter()
            w.string(SecDumpField.SecDump.tags, "image_name:app")
            w.message(SecDumpField.SecDump.tree) { n in
                n.message(SecDumpField.ProcessActivityNode.process) { p in
                    p.message(SecDumpField.ProcessInfo.file) { f in f.string(SecDumpField.FileInfo.path, "/bin/a") }
                }
                build(&n)
            }
            return w.bytes
        }
        let packed = pb { $0.packed(SecDumpField.ProcessActivityNode.syscalls, Array(repeating: 1, count: 10_001)) }
        #expect(dumpCode(packed, contentType: "application/x-protobuf") == "too_many_children")
        #expect(dumpCode(pb { $0.packed(SecDumpField.ProcessActivityNode.syscalls, Array(repeating: 1, count: 10_000)) },
                         contentType: "application/x-protobuf") == nil)
        // The element budget (4 per node) across fields: 41 syscall nodes in a dump of at most 10 nodes.
        let budget = DumpDecoder(limits: DumpLimits(maxNodes: 10, maxChildren: 1000))
        let nodes = pb { n in for _ in 0..<41 { n.message(SecDumpField.ProcessActivityNode.syscallNodes) { _ in } } }
        #expect(throws: Rejection("too_many_nodes", "the dump has more than 40 repeated elements")) {
            try budget.decode(nodes, contentType: "application/x-protobuf", receivedAt: 1)
        }
        // JSON: any array past maxChildren, and more than 16 values per node, before parsing.
        let bomb = gzip(Array(#"{"workload":{"image_name":"app"},"processes":[{"path":"/a","syscalls":["#.utf8)
                        + Array(repeating: Array("1,".utf8), count: 1_000_000).flatMap { $0 } + Array("1]}]}".utf8))
        #expect(dumpCode(bomb) == "too_many_children")
        let values = #"{"workload":{"image_name":"app"},"processes":[{"path":"/a","args":["# + Array(repeating: "1", count: 200).joined(separator: ",") + "]}]}"
        #expect(throws: Rejection("too_many_nodes", "the JSON has more than 160 values")) {
            try budget.decode(Array(values.utf8), receivedAt: 1)
        }
        // Commas and brackets inside strings are no values.
        let quoted = #"{"workload":{"image_name":"app"},"processes":[{"path":"/a,\"[,{,"# + String(repeating: ",", count: 3000) + #""}]}"#
        #expect(dumpCode(Array(quoted.utf8)) == nil)
    }

    // MARK: nesting

    /// Review: a signal nested deeper than the parser should recurse is rejected before parsing, by name.
    @Test func deeplyNestedSignalsAreRejectedBeforeParsing() {
        for depth in [SecuritySignal.maxNesting + 1, 600, 100_000] {
            let json = #"{"evt":{"name":"exec"},"x":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
            #expect(signalCode(Array(json.utf8)) == "too_deep", "\(depth)")
        }
        // Brackets inside strings are no nesting.
        let quoted = #"{"evt":{"name":"exec"},"x":""# + String(repeating: "[", count: 1000) + #""}"#
        #expect(signalCode(Array(quoted.utf8)) == nil)
        let ok = #"{"evt":{"name":"exec"},"x":"# + String(repeating: "[", count: 60) + String(repeating: "]", count: 60) + "}"
        #expect(signalCode(Array(ok.utf8)) == nil)
    }
}
