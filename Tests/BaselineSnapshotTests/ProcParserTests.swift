import BaselineSnapshot
import Foundation
import Testing

/// The /proc parsers on text captured from a real /proc (Fixtures/README.md).
@Suite struct ProcParserTests {
    static func fixture(_ path: String) throws -> String {
        try String(contentsOf: FakeProc.fixtures.appendingPathComponent("proc/" + path), encoding: .utf8)
    }

    static func fixtureBytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: FakeProc.fixtures.appendingPathComponent("proc/" + path)))
    }

    @Test func statWithAParenthesisAndASpaceInComm() throws {
        let stat = try #require(ProcStat(try Self.fixture("17261/stat")))
        #expect(stat.pid == 17261)
        #expect(stat.comm == "we) ird")
        #expect(stat.state == "S")
        #expect(stat.ppid == 17259)
        #expect(stat.startTicks == 1_035_368)
        #expect(!stat.isKernelThread)
    }

    @Test func kernelThreadsByFlagOrParent() throws {
        let kthreadd = try #require(ProcStat(try Self.fixture("2/stat")))
        #expect(kthreadd.comm == "kthreadd" && kthreadd.ppid == 0 && kthreadd.isKernelThread)
        let worker = try #require(ProcStat(try Self.fixture("10/stat")))
        #expect(worker.comm == "kworker/0:0H-kblockd" && worker.state == "I")
        #expect(worker.flags & ProcStat.kernelThreadFlag != 0)
        #expect(worker.isKernelThread)
        // A user process whose parent is kthreadd is one too (usermode helpers are, for an instant).
        var helper = try #require(ProcStat(try Self.fixture("17262/stat")))
        #expect(!helper.isKernelThread)
        helper.ppid = 2
        #expect(helper.isKernelThread)
    }

    @Test func malformedStatLinesAreNilNotATrap() {
        #expect(ProcStat("8100 (broken\n") == nil)
        #expect(ProcStat("") == nil)
        #expect(ProcStat("12 (x) S") == nil)
        // Numbers that do not fit are malformed, not wrapped.
        let huge = "5 (x) S 1 1 1 0 -1 99999999999999999999999 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0"
        #expect(ProcStat(huge) == nil)
        let negativeStart = "5 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -100 0 0"
        #expect(ProcStat(negativeStart) == nil)
        // A comm with a newline and `) ` inside still finds the fields after the last `)`.
        let odd = "7 (a) b\n(c)) R 3 1 1 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 42 0 0"
        let stat = ProcStat(odd)
        #expect(stat?.comm == "a) b\n(c)" && stat?.ppid == 3 && stat?.startTicks == 42)
    }

    @Test func commandLineKeepsSpacesAndNewlinesInArguments() throws {
        let cmd = ProcCommandLine(try Self.fixtureBytes("16915/cmdline"))
        #expect(cmd.argv0 == "/usr/bin/python3")
        // The trailing '' argument reads like the NUL padding of a rewritten title: dropped.
        #expect(cmd.args == ["srv.py", "--name=web server", "two\nlines"])
        #expect(cmd.truncatedArguments == 0)
        // A rewritten title (nginx) is one argument padded with NULs.
        let title = ProcCommandLine(Array("nginx: worker process".utf8) + [UInt8](repeating: 0, count: 40))
        #expect(title.argv0 == "nginx: worker process" && title.args.isEmpty)
        // Empty arguments in the middle are real arguments.
        let middle = ProcCommandLine(Array("sh\0-c\0\0x\0".utf8))
        #expect(middle.args == ["-c", "", "x"])
        #expect(ProcCommandLine([]).argv0 == nil)
    }

    @Test func longArgumentsAreCutOnACharacterBoundary() {
        let arg = String(repeating: "é", count: 3000)  // 6000 UTF-8 bytes
        let cmd = ProcCommandLine(Array("prog\0\(arg)\0short\0".utf8), maxArgumentBytes: 4095)
        #expect(cmd.truncatedArguments == 1)
        #expect(cmd.args.count == 2 && cmd.args[1] == "short")
        #expect(cmd.args[0].utf8.count == 4094 && cmd.args[0] == String(repeating: "é", count: 2047))
    }

    @Test func credentialsFromStatus() throws {
        let root = ProcCredentials(status: try Self.fixture("16915/status"))
        #expect(root == ProcCredentials(uid: 0, gid: 0, euid: 0, egid: 0, namespacePID: 16915))  // NSpid: one pid namespace
        let mixed = ProcCredentials(status: "Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t100\t101\t101\t101\n")
        #expect(mixed == ProcCredentials(uid: 1000, gid: 100, euid: 0, egid: 101))
        #expect(ProcCredentials(status: "Uid:\t-1\n") == ProcCredentials())
    }

    @Test func openFlagsFromFdinfo() throws {
        // Opened with open(…, "a"): O_WRONLY|O_APPEND|O_LARGEFILE|O_CLOEXEC.
        #expect(OpenFileFlags.parse(fdinfo: try Self.fixture("16915/fdinfo/12")) == 0o2102001)
        #expect(OpenFileFlags.parse(fdinfo: try Self.fixture("16915/fdinfo/3")) == 0o2000002)
        #expect(OpenFileFlags.parse(fdinfo: "pos:\t0\n") == nil)
        #expect(OpenFileFlags.parse(fdinfo: "flags:\t9\n") == nil)  // not octal
    }

    @Test func listeningSocketsOfCapturedTables() throws {
        var table = SocketTable()
        for kind in SocketTable.Kind.allCases {
            table.add(try Self.fixture("16915/net/\(kind.rawValue)"), kind: kind, littleEndian: true)
        }
        let found = Set(table.byInode.values)
        #expect(found == [
            ListeningSocket(inode: 1_285_851, family: "AF_INET", ip: "127.0.0.1", port: 9192, protocol: "tcp"),
            ListeningSocket(inode: 1_286_768, family: "AF_INET", ip: "127.0.0.1", port: 9092, protocol: "tcp"),
            ListeningSocket(inode: 1_326_811, family: "AF_INET", ip: "127.0.0.1", port: 9592, protocol: "tcp"),
            ListeningSocket(inode: 1_286_741, family: "AF_INET", ip: "127.0.0.1", port: 55432, protocol: "tcp"),
            ListeningSocket(inode: 1060, family: "AF_INET", ip: "0.0.0.0", port: 2024, protocol: "tcp"),
            ListeningSocket(inode: 1_395_593, family: "AF_INET", ip: "127.0.0.1", port: 18080, protocol: "tcp"),
            ListeningSocket(inode: 1_395_594, family: "AF_INET6", ip: "::1", port: 18443, protocol: "tcp"),
            ListeningSocket(inode: 1_395_595, family: "AF_INET6", ip: "::", port: 18444, protocol: "tcp"),
            ListeningSocket(inode: 1_395_596, family: "AF_INET", ip: "127.0.0.1", port: 15353, protocol: "udp"),
            ListeningSocket(inode: 1_395_597, family: "AF_INET6", ip: "::1", port: 15354, protocol: "udp"),
        ])
        // Both ends of the established connection and the connected UDP socket are not listening.
        #expect(table[1_395_599] == nil && table[1_395_600] == nil && table[1_395_598] == nil)
        #expect(table.malformedLines == 0)
    }

    @Test func socketAddressesInBothByteOrders() {
        // The same address as a little-endian and a big-endian kernel print it.
        var little = SocketTable(), big = SocketTable()
        let header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        little.add(header + "   0: 0A01A8C0:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7 1\n",
                   kind: .tcp, littleEndian: true)
        big.add(header + "   0: C0A8010A:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7 1\n",
                kind: .tcp, littleEndian: false)
        #expect(little[7]?.ip == "192.168.1.10" && little[7]?.port == 80)
        #expect(big[7] == little[7])
        // An IPv4-mapped IPv6 listener, as a little-endian kernel prints it.
        var mapped = SocketTable()
        mapped.add(header + "   0: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 9 1\n",
                   kind: .tcp6, littleEndian: true)
        #expect(mapped[9]?.ip == "::ffff:127.0.0.1" && mapped[9]?.family == "AF_INET6")
    }

    @Test func malformedSocketLinesAreCountedAndSkipped() {
        var table = SocketTable()
        let text = """
              sl  local_address rem_address   st
               0: 0100007F:XYZW 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11 1
               1: 0100007F:0050 00000000:0000 0A
               2: 0100007F0:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12 1
               3: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99999999999999999999999 1
               4: 0100007F:0051 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 0 1
               5: 0100007F:0052 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 13 1
            """
        table.add(text, kind: .tcp, littleEndian: true)
        #expect(table.malformedLines == 4)
        #expect(table.byInode.keys.sorted() == [13])  // inode 0 is no owner's socket
        #expect(table[13]?.port == 82)
    }

    // MARK: cgroups

    @Test func dockerCgroupfsV1() throws {
        let m = CgroupParser.parse(try Self.fixture("3001/cgroup"))
        let id = "25f6fb263302c7585cfaf59f1cddd08f7db880c039fef8a2b42f1597db26c8fe"
        #expect(m.path == "/docker/\(id)")
        #expect(m.container == ContainerRef(id: id, runtime: .docker))
        #expect(m.systemdUnit == nil)
    }

    @Test func dockerSystemdV2() throws {
        let m = CgroupParser.parse(try Self.fixture("4001/cgroup"))
        let id = "b1f987c9d045c1f82c952d1e6e564c4ccb4be6be8412f55d8d3a82530279f56c"
        #expect(m.path == "/system.slice/docker-\(id).scope")
        #expect(m.container == ContainerRef(id: id, runtime: .docker))
    }

    @Test func containerdUnderKubernetes() throws {
        let m = CgroupParser.parse(try Self.fixture("5002/cgroup"))
        #expect(m.container == ContainerRef(id: "9c272824d47d4d2b21d6c14598d96fa2a5c820097687c2cd9fa75a0ecc8ed11a", runtime: .containerd))
        // cgroupfs driver: a bare id under the pod, runtime unknown from the path alone.
        let cgroupfs = CgroupParser.parse("0::/kubepods/besteffort/pod0c2d4e6f-8a0b-4c2d-9e1f-3a5b7c9d1e2f/\(String(repeating: "ab", count: 32))\n")
        #expect(cgroupfs.container == ContainerRef(id: String(repeating: "ab", count: 32), runtime: .unknown))
    }

    @Test func crioContainerButNotItsMonitor() throws {
        let worker = CgroupParser.parse(try Self.fixture("6001/cgroup"))
        #expect(worker.container == ContainerRef(id: "dc626e6558351adeb72e354009bc7a95d016aa9a24b7e6482f13d48bedcedde6", runtime: .crio))
        #expect(worker.path.hasSuffix("/crio-dc626e6558351adeb72e354009bc7a95d016aa9a24b7e6482f13d48bedcedde6.scope"))
        let conmon = CgroupParser.parse(try Self.fixture("6000/cgroup"))
        #expect(conmon.container == nil)
        #expect(conmon.systemdUnit == "crio-conmon-dc626e6558351adeb72e354009bc7a95d016aa9a24b7e6482f13d48bedcedde6.scope")
    }

    @Test func podmanRootlessNested() throws {
        let m = CgroupParser.parse(try Self.fixture("7001/cgroup"))
        #expect(m.container == ContainerRef(id: "f9d688036191e04636c64024ce221730446495d6568b72e14d6ebc8aa23e434f", runtime: .podman))
    }

    @Test func hostProcessesAndTheirUnits() throws {
        #expect(CgroupParser.parse(try Self.fixture("900/cgroup")).systemdUnit == "cron.service")
        #expect(CgroupParser.parse(try Self.fixture("950/cgroup")).systemdUnit == "session-3.scope")
        // The capturing machine's own v1/v2 hybrid lines: no container, the memory controller's path.
        let captured = CgroupParser.parse(try Self.fixture("16915/cgroup"))
        #expect(captured.container == nil)
        #expect(captured.path == "/process_api/920c935546b649cd96f64ec98a93e7d4")
        #expect(CgroupParser.parse(try Self.fixture("1/cgroup")).path == "/")
        // A user service under user@.service is the innermost .service, but known to sit below a
        // user manager, and keyed by its whole path: never the system unit of the same name.
        let user = try #require(CgroupParser.systemdUnit(inPath: "/user.slice/user-1000.slice/user@1000.service/app.slice/syncthing.service"))
        #expect(user.name == "syncthing.service" && user.userManager)
        #expect(user.path == "/user.slice/user-1000.slice/user@1000.service/app.slice/syncthing.service")
        let system = try #require(CgroupParser.systemdUnit(inPath: "/system.slice/syncthing.service"))
        #expect(system.name == "syncthing.service" && !system.userManager && system.path != user.path)
        // The user manager itself is a system unit.
        #expect(CgroupParser.systemdUnit(inPath: "/user.slice/user-1000.slice/user@1000.service/init.scope")?.userManager == false)
    }

    // MARK: forged cgroups (attacks)

    @Test func theOutermostContainerIDWins() {
        let a = String(repeating: "a1", count: 32), b = String(repeating: "b2", count: 32)
        // A process inside container a creates a nested cgroup named after container b.
        let nested = CgroupParser.parse("0::/system.slice/docker-\(a).scope/\(b)\n")
        #expect(nested.container?.id == a)
        #expect(nested.containerPath == "/system.slice/docker-\(a).scope")
        let nestedPrefixed = CgroupParser.parse("0::/system.slice/docker-\(a).scope/docker-\(b).scope\n")
        #expect(nestedPrefixed.container?.id == a)
    }

    @Test func aContainerIDBelowAUserManagerIsMarked() {
        let id = String(repeating: "c3", count: 32)
        // `systemd-run --user --scope --unit=docker-<id>` by any user.
        let forged = CgroupParser.parse("0::/user.slice/user-1000.slice/user@1000.service/app.slice/docker-\(id).scope\n")
        #expect(forged.container?.id == id && forged.underUserManager)
        #expect(!CgroupParser.parse("0::/system.slice/docker-\(id).scope\n").underUserManager)
        // `user@` must be a whole unit name with a numeric uid.
        #expect(!CgroupParser.parse("0::/system.slice/xuser@1000.service/docker-\(id).scope\n").underUserManager)
    }

    @Test func hierarchiesNamingDifferentContainersTrustNone() {
        let a = String(repeating: "d4", count: 32), b = String(repeating: "e5", count: 32)
        let m = CgroupParser.parse("4:memory:/docker/\(a)\n1:name=systemd:/docker/\(b)\n0::/\n")
        #expect(m.container == nil && m.conflictingContainers && m.systemdUnit == nil)
    }

    @Test func idsMustBeWholeComponentsOfExactlySixtyFourHexDigits() {
        let id = String(repeating: "0a", count: 32)
        #expect(CgroupParser.containerID(inPath: "/docker/\(id)x") == nil)
        #expect(CgroupParser.containerID(inPath: "/docker/\(id.uppercased())") == nil)
        #expect(CgroupParser.containerID(inPath: "/docker/\(id.dropLast())") == nil)
        #expect(CgroupParser.containerID(inPath: "/system.slice/evil-docker-\(id).scope") == nil)
        #expect(CgroupParser.containerID(inPath: "/system.slice/docker-\(id).scope")?.runtime == .docker)
        // Garbage lines are skipped, the path after the second colon may hold colons.
        let m = CgroupParser.parse("garbage\n::\nx:y:/z\n0::/a:b/docker-\(id).scope\n")
        #expect(m.path == "/a:b/docker-\(id).scope" && m.container?.id == id)
    }

    // MARK: naming

    @Test func mappingFileRulesAndErrors() throws {
        let mapping = try ImageMapping(parsing: """
            # cgroup pattern                image
            */docker-b1f9*.scope            redis:7.2
            /docker/*                       registry.local:5000/team/nginx

            */cri-containerd-*              api:2.0   # trailing comment
            """)
        #expect(mapping.rules.count == 3)
        #expect(mapping.image(forCgroup: "/system.slice/docker-b1f987c9.scope") == ImageName(name: "redis", tag: "7.2"))
        #expect(mapping.image(forCgroup: "/docker/25f6") == ImageName(name: "registry.local:5000/team/nginx"))
        #expect(mapping.image(forCgroup: "/kubepods.slice/x/cri-containerd-9c27.scope") == ImageName(name: "api", tag: "2.0"))
        #expect(mapping.image(forCgroup: "/system.slice/cron.service") == nil)
        #expect(throws: ImageMapping.ParseError.self) { try ImageMapping(parsing: "onlyone\n") }
        do throws(ImageMapping.ParseError) {
            _ = try ImageMapping(parsing: "a b\n/x img: extra\n")
            Issue.record("three fields must be rejected")
        } catch {
            #expect(error.line == 2)
        }
        #expect(throws: ImageMapping.ParseError.self) { try ImageMapping(parsing: "/x nginx:\n") }
    }

    @Test func globsCrossSlashes() {
        #expect(Glob("*nginx*").matches("/usr/sbin/nginx"))
        #expect(Glob("*/docker-*.scope").matches("/system.slice/docker-abc.scope"))
        #expect(!Glob("/usr/bin/*").matches("/usr/sbin/nginx"))
        #expect(Glob("/usr/bin/python3.1[01]").matches("/usr/bin/python3.11"))
    }
}
