/// An executable as a process runs it: identity is the path, plus argv0 for multi-call binaries.
struct FleetExe: Hashable, Sendable {
    var path: String
    var argv0: String
    var args: [String]

    init(_ path: String, _ argv0: String, _ args: [String] = []) {
        self.path = path
        self.argv0 = argv0
        self.args = args
    }

    /// The lineage element the profile uses (`/bin/busybox[wget]` for multi-call binaries).
    var identity: String { MultiCallBinaries.isMultiCall(path) ? "\(path)[\(argv0)]" : path }

    /// `comm` as the kernel keeps it (basename, at most 15 characters).
    var comm: String { String((argv0.split(separator: "/").last.map(String.init) ?? argv0).prefix(15)) }
}

/// One process of an image's tree and the activity it shows in every dump.
struct FleetRole: Sendable {
    var name: String
    var exe: FleetExe
    /// The role this one runs under after normalisation (nil: a root of the workload).
    var parent: String?
    /// Physically an exec child of this role (which runs under `parent`): the dump carries
    /// `is_exec_child` and normalisation re-bases it; signals see the exec'd-over process vanish.
    var execFrom: String?
    var files: [String] = []
    var dns: [String] = []
    var ports: [Int] = []
    var syscalls: [String] = []
    var capabilities: [String] = []
    /// Opens `/proc/<own pid>/status` (reduces to `/proc/self/status`).
    var procStatus = false
    /// Opens a fresh temporary file and a fresh time-stamped log in every dump.
    var ephemeral = false
    /// Forked copies of the same binary under `parent` (workers); they collapse into the parent.
    var copies = 1
    /// A short-lived process: a new pid in every dump.
    var freshPid = false
    /// Only the rare container runs it.
    var rareOnly = false
    /// Extra files / DNS names of this role in the rare container only.
    var rareFiles: [String] = []
    var rareDNS: [String] = []

    init(_ name: String, _ exe: FleetExe, parent: String?) {
        self.name = name
        self.exe = exe
        self.parent = parent
    }
}

/// How an image's processes look: the roles of its tree, its ephemeral file shapes, and which
/// roles the attack scenarios use.
struct FleetBlueprint: Sendable {
    var kind: FleetImageKind
    var baseName: String
    var tagBase: String
    var roles: [FleetRole]
    /// Role names used by the scenarios.
    var server: String
    var worker: String?
    /// A leaf helper that never spawns anything (the GTFOBins escape spawns the shell from it).
    var helper: String
    /// The known shell the web shell and the escape exec.
    var shell: String
    /// Ephemeral names: `<tmpDir>/<tmpPrefix><hex><tmpSuffix>` and `<stampDir>/<date>-<hhmmss>.log`.
    var tmpDir: String
    var tmpPrefix: String
    var tmpSuffix: String
    var stampDir: String
    /// Config/secret files the server opens (what `knownFileUnknownProcess` steals).
    var secrets: [String]

    func role(_ name: String) -> FleetRole { roles.first { $0.name == name }! }

    /// Normalised lineage (root first) of a role: same-binary parents collapse (workers into the server).
    func lineage(of name: String) -> [String] {
        var chain: [String] = []
        var r: FleetRole? = role(name)
        while let current = r {
            chain.insert(current.exe.identity, at: 0)
            r = current.parent.map(role)
        }
        var out: [String] = []
        for id in chain where out.last != id { out.append(id) }
        return out
    }

    /// The processes a live signal of this role sees, root first (a role exec'd over its
    /// `execFrom` replaced it, so that one is not there).
    func physicalChain(of name: String) -> [FleetRole] {
        var chain: [FleetRole] = []
        var r: FleetRole? = role(name)
        while let current = r {
            chain.insert(current, at: 0)
            r = current.parent.map(role)
        }
        return chain
    }

    /// Whether an image runs a multi-call binary (busybox applets can then be abused).
    var multiCallPath: String? { roles.first { MultiCallBinaries.isMultiCall($0.exe.path) }?.exe.path }

    static func make(_ kind: FleetImageKind) -> FleetBlueprint {
        switch kind {
        case .webServer: webServer
        case .pythonApp: pythonApp
        case .busyboxSidecar: busyboxSidecar
        case .keyValueStore: keyValueStore
        }
    }

    static let shellSyscalls = ["clone", "execve", "openat", "read", "wait4"]

    static var webServer: FleetBlueprint {
        var root = FleetRole("root", FleetExe("/bin/sh", "/bin/sh", ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]), parent: nil)
        root.files = ["/docker-entrypoint.sh"]
        root.syscalls = shellSyscalls
        var find = FleetRole("helper", FleetExe("/usr/bin/find", "find", ["/docker-entrypoint.d/", "-mindepth", "1", "-maxdepth", "1", "-type", "f"]),
                             parent: "root")
        find.files = ["/docker-entrypoint.d/10-listen-on-ipv6-by-default.sh", "/docker-entrypoint.d/20-envsubst-on-templates.sh",
                      "/docker-entrypoint.d/30-tune-worker-processes.sh"]
        find.syscalls = ["getdents64", "newfstatat", "openat"]
        find.freshPid = true
        var master = FleetRole("server", FleetExe("/usr/sbin/nginx", "nginx", ["-g", "daemon off;"]), parent: "root")
        master.files = ["/etc/nginx/nginx.conf", "/etc/nginx/conf.d/default.conf", "/etc/nginx/mime.types", "/etc/ssl/private/nginx.key"]
        master.ports = [80]
        master.procStatus = true
        master.syscalls = ["bind", "clone", "epoll_create1", "listen", "openat", "setgid", "setsockopt", "setuid"]
        master.capabilities = ["CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_SETGID", "CAP_SETUID"]
        master.rareFiles = ["/etc/nginx/conf.d/debug.conf"]
        var worker = FleetRole("worker", FleetExe("/usr/sbin/nginx", "nginx", ["-g", "daemon off;"]), parent: "server")
        worker.files = ["/var/log/nginx/access.log", "/var/log/nginx/error.log", "/usr/share/nginx/html/index.html"]
        worker.dns = ["api.internal.example.com", "auth.internal.example.com"]
        worker.ephemeral = true
        worker.copies = 2
        worker.freshPid = true
        worker.syscalls = ["accept4", "epoll_wait", "openat", "recvfrom", "sendfile", "writev"]
        worker.rareDNS = ["canary.internal.example.com"]
        var openssl = FleetRole("rare-exec", FleetExe("/usr/bin/openssl", "openssl", ["dhparam", "-out", "/etc/nginx/dhparam.pem", "2048"]),
                                parent: "root")
        openssl.files = ["/usr/lib/ssl/openssl.cnf"]
        openssl.syscalls = ["getrandom", "openat", "write"]
        openssl.rareOnly = true
        openssl.freshPid = true
        return FleetBlueprint(kind: .webServer, baseName: "nginx", tagBase: "1.25", roles: [root, find, master, worker, openssl],
                              server: "server", worker: "worker", helper: "helper", shell: "root", tmpDir: "/tmp", tmpPrefix: "sess-",
                              tmpSuffix: "", stampDir: "/var/cache/nginx", secrets: ["/etc/ssl/private/nginx.key", "/etc/nginx/nginx.conf"])
    }

    static var pythonApp: FleetBlueprint {
        var root = FleetRole("root", FleetExe("/usr/local/bin/docker-entrypoint.sh", "docker-entrypoint.sh", ["gunicorn", "app:app"]),
                             parent: nil)
        root.files = ["/usr/local/bin/docker-entrypoint.sh", "/app/.env"]
        root.syscalls = shellSyscalls
        var sh = FleetRole("shell", FleetExe("/bin/sh", "sh", ["-c", "find /var/cache/app -type f -mmin +60 -delete"]), parent: "root")
        sh.syscalls = shellSyscalls
        sh.freshPid = true
        var find = FleetRole("helper", FleetExe("/usr/bin/find", "find", ["/var/cache/app", "-type", "f", "-mmin", "+60", "-delete"]),
                             parent: "shell")
        find.files = ["/var/cache/app"]
        find.syscalls = ["getdents64", "newfstatat", "openat", "unlinkat"]
        find.freshPid = true
        let gunicorn = ["/usr/local/bin/gunicorn", "app:app", "--bind", "0.0.0.0:8000", "--workers", "2"]
        var master = FleetRole("server", FleetExe("/usr/local/bin/python3.12", "/usr/local/bin/python", gunicorn), parent: "root")
        master.files = ["/app/app.py", "/app/config/settings.toml", "/app/config/secrets.toml", "/etc/ssl/certs/ca-certificates.crt"]
        master.ports = [8000]
        master.procStatus = true
        master.syscalls = ["bind", "clone", "listen", "openat", "setgid", "setuid", "wait4"]
        master.capabilities = ["CAP_SETGID", "CAP_SETUID"]
        master.rareFiles = ["/app/config/feature-flags.local.toml"]
        var worker = FleetRole("worker", FleetExe("/usr/local/bin/python3.12", "/usr/local/bin/python", gunicorn), parent: "server")
        worker.files = ["/app/templates/index.html", "/app/static/app.css"]
        worker.dns = ["postgres.default.svc.cluster.local", "payments.example.com"]
        worker.ephemeral = true
        worker.copies = 2
        worker.freshPid = true
        worker.syscalls = ["accept4", "connect", "fstat", "openat", "recvfrom", "sendto"]
        worker.rareDNS = ["sentry.internal.example.com"]
        var git = FleetRole("rare-exec", FleetExe("/usr/bin/git", "git", ["rev-parse", "HEAD"]), parent: "root")
        git.files = ["/app/.git/HEAD"]
        git.syscalls = ["openat", "read"]
        git.rareOnly = true
        git.freshPid = true
        return FleetBlueprint(kind: .pythonApp, baseName: "gunicorn-app", tagBase: "2.4", roles: [root, sh, find, master, worker, git],
                              server: "server", worker: "worker", helper: "helper", shell: "shell", tmpDir: "/tmp",
                              tmpPrefix: "wgunicorn-", tmpSuffix: "", stampDir: "/var/cache/app",
                              secrets: ["/app/config/secrets.toml", "/app/config/settings.toml"])
    }

    static var busyboxSidecar: FleetBlueprint {
        var root = FleetRole("root", FleetExe("/bin/busybox", "sh", ["-c", "httpd -f -p 8081 -h /www & while true; do wget -q -O - \"$COLLECTOR\"; sleep 30; done"]),
                             parent: nil)
        root.files = ["/etc/shipper/shipper.conf"]
        root.procStatus = true
        root.syscalls = shellSyscalls + ["nanosleep"]
        root.rareFiles = ["/etc/shipper/debug.conf"]
        var httpd = FleetRole("server", FleetExe("/bin/busybox", "httpd", ["-f", "-p", "8081", "-h", "/www"]), parent: "root")
        httpd.files = ["/etc/httpd.conf", "/etc/shipper/token"]
        httpd.ports = [8081]
        httpd.syscalls = ["accept", "bind", "listen", "openat", "poll"]
        httpd.capabilities = ["CAP_NET_BIND_SERVICE"]
        var request = FleetRole("worker", FleetExe("/bin/busybox", "httpd", ["-f", "-p", "8081", "-h", "/www"]), parent: "server")
        request.files = ["/www/index.html", "/www/health"]
        request.freshPid = true
        request.syscalls = ["read", "sendfile", "write"]
        var wget = FleetRole("helper", FleetExe("/bin/busybox", "wget", ["-q", "-O", "-", "http://collector.monitoring.svc.cluster.local:9000/ingest"]),
                             parent: "root")
        wget.files = ["/etc/resolv.conf", "/etc/hosts"]
        wget.dns = ["collector.monitoring.svc.cluster.local"]
        wget.ephemeral = true
        wget.freshPid = true
        wget.syscalls = ["connect", "openat", "recvfrom", "sendto", "socket"]
        wget.rareDNS = ["backup-collector.monitoring.svc.cluster.local"]
        var gzip = FleetRole("rare-exec", FleetExe("/bin/busybox", "gzip", ["-9", "/var/spool/shipper/archive.log"]), parent: "root")
        gzip.files = ["/var/spool/shipper/archive.log"]
        gzip.syscalls = ["openat", "read", "write"]
        gzip.rareOnly = true
        gzip.freshPid = true
        return FleetBlueprint(kind: .busyboxSidecar, baseName: "log-shipper", tagBase: "1.36", roles: [root, httpd, request, wget, gzip],
                              server: "server", worker: "worker", helper: "helper", shell: "root", tmpDir: "/tmp", tmpPrefix: "sess-",
                              tmpSuffix: "", stampDir: "/var/spool/shipper", secrets: ["/etc/shipper/token", "/etc/httpd.conf"])
    }

    static var keyValueStore: FleetBlueprint {
        var root = FleetRole("root", FleetExe("/usr/local/bin/docker-entrypoint.sh", "docker-entrypoint.sh", ["redis-server", "/etc/redis/redis.conf"]),
                             parent: nil)
        root.files = ["/usr/local/bin/docker-entrypoint.sh"]
        root.syscalls = shellSyscalls
        var find = FleetRole("helper", FleetExe("/usr/bin/find", "find", [".", "!", "-user", "redis"]), parent: "root")
        find.files = ["/data"]
        find.syscalls = ["getdents64", "newfstatat", "openat"]
        find.freshPid = true
        var gosu = FleetRole("gosu", FleetExe("/usr/local/bin/gosu", "gosu", ["redis", "redis-server", "/etc/redis/redis.conf"]), parent: "root")
        gosu.syscalls = ["execve", "setgid", "setgroups", "setuid"]
        gosu.capabilities = ["CAP_SETGID", "CAP_SETUID"]
        var server = FleetRole("server", FleetExe("/usr/local/bin/redis-server", "redis-server", ["/etc/redis/redis.conf"]), parent: "root")
        server.execFrom = "gosu"
        server.files = ["/etc/redis/redis.conf", "/etc/redis/users.acl", "/data/dump.rdb"]
        server.dns = ["redis-primary.default.svc.cluster.local"]
        server.ports = [6379]
        server.procStatus = true
        server.syscalls = ["accept4", "bind", "epoll_wait", "fsync", "listen", "openat", "read", "write"]
        server.rareFiles = ["/etc/redis/replica.conf"]
        server.rareDNS = ["redis-backup.default.svc.cluster.local"]
        var save = FleetRole("worker", FleetExe("/usr/local/bin/redis-server", "redis-server", ["/etc/redis/redis.conf"]), parent: "server")
        save.ephemeral = true
        save.freshPid = true
        save.syscalls = ["fsync", "openat", "rename", "write"]
        var health = FleetRole("health", FleetExe("/bin/busybox", "sh", ["-c", "redis-cli ping"]), parent: nil)
        health.syscalls = shellSyscalls
        health.freshPid = true
        var cli = FleetRole("health-cli", FleetExe("/usr/local/bin/redis-cli", "redis-cli", ["ping"]), parent: "health")
        cli.syscalls = ["connect", "read", "socket", "write"]
        cli.freshPid = true
        var check = FleetRole("rare-exec", FleetExe("/usr/local/bin/redis-check-aof", "redis-check-aof", ["--fix", "/data/appendonly.aof"]),
                              parent: "root")
        check.files = ["/data/appendonly.aof"]
        check.syscalls = ["openat", "read"]
        check.rareOnly = true
        check.freshPid = true
        return FleetBlueprint(kind: .keyValueStore, baseName: "redis", tagBase: "7.2", roles: [root, find, gosu, server, save, health, cli, check],
                              server: "server", worker: "worker", helper: "helper", shell: "health", tmpDir: "/data", tmpPrefix: "temp-",
                              tmpSuffix: ".rdb", stampDir: "/var/log/redis", secrets: ["/etc/redis/users.acl", "/etc/redis/redis.conf"])
    }
}
