#!/usr/bin/env python3
"""Builds the container and host-service processes of proc/ from the captured sleep process
(proc/17262): its stat line and status with pid, comm, ppid and ids replaced, and cgroup files in
the layouts the runtimes create. Run from this directory; the output is deterministic."""
import hashlib, os

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "proc"))

def cid(name):
    return hashlib.sha256(name.encode()).hexdigest()

base = open("17262/stat").read()
rest = base[base.rindex(")") + 2:].split(" ")
status_base = open("17262/status").read()

def proc(pid, ppid, comm, argv, cgroup, uid=0):
    os.makedirs(str(pid), exist_ok=True)
    r = list(rest)
    r[1] = str(ppid)
    open(f"{pid}/stat", "w").write(f"{pid} ({comm}) " + " ".join(r))
    open(f"{pid}/cmdline", "wb").write(b"".join(a.encode() + b"\0" for a in argv))
    open(f"{pid}/cgroup", "w").write(cgroup)
    st = status_base.replace("\nPid:\t17262", f"\nPid:\t{pid}").replace("\nPPid:\t17259", f"\nPPid:\t{ppid}")
    st = st.replace("Name:\tsleep", f"Name:\t{comm}")
    st = st.replace("Uid:\t0\t0\t0\t0", f"Uid:\t{uid}\t{uid}\t{uid}\t{uid}").replace("Gid:\t0\t0\t0\t0", f"Gid:\t{uid}\t{uid}\t{uid}\t{uid}")
    open(f"{pid}/status", "w").write(st)

def v1(path, systemd=None):
    controllers = [(12, "pids"), (11, "hugetlb"), (10, "net_cls,net_prio"), (9, "perf_event"), (8, "cpuset"), (7, "freezer"),
                   (6, "devices"), (5, "memory"), (4, "blkio"), (3, "cpu,cpuacct"), (2, "rdma")]
    return "".join(f"{n}:{c}:{path}\n" for n, c in controllers) + f"1:name=systemd:{systemd or path}\n0::/\n"

# docker, cgroupfs driver, cgroup v1: shim on the host, nginx master + worker in the container
d1 = cid("docker-v1-nginx")
proc(3000, 1, "containerd-shim", ["/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", d1, "-address", "/run/containerd/containerd.sock"], v1("/system.slice/containerd.service"))
proc(3001, 3000, "nginx", ["nginx: master process nginx -g daemon off;"], v1(f"/docker/{d1}"))
proc(3002, 3001, "nginx", ["nginx: worker process"], v1(f"/docker/{d1}"), uid=101)
# docker, systemd driver, cgroup v2
d2 = cid("docker-v2-redis")
proc(4000, 1, "containerd-shim", ["/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", d2], "0::/system.slice/containerd.service\n")
proc(4001, 4000, "redis-server", ["redis-server *:6379"], f"0::/system.slice/docker-{d2}.scope\n", uid=999)
# containerd under Kubernetes (systemd driver, cgroup v2): the pod's pause container and the app
pod = "kubepods-burstable-pod3b1f3c6e_2a7d_4b8e_9c1d_5e6f7a8b9c0d.slice"
pause, app = cid("k8s-pause"), cid("k8s-api")
proc(5000, 1, "containerd-shim", ["/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io", "-id", pause], "0::/system.slice/containerd.service\n")
proc(5001, 5000, "pause", ["/pause"], f"0::/kubepods.slice/kubepods-burstable.slice/{pod}/cri-containerd-{pause}.scope\n", uid=65535)
proc(5002, 5000, "api", ["/app/api", "--port", "8080"], f"0::/kubepods.slice/kubepods-burstable.slice/{pod}/cri-containerd-{app}.scope\n")
# cri-o (systemd driver, cgroup v1): conmon in its own scope is not the container
c1 = cid("crio-worker")
crpod = "kubepods-besteffort-pod0c2d4e6f_8a0b_4c2d_9e1f_3a5b7c9d1e2f.slice"
proc(6000, 1, "conmon", ["/usr/bin/conmon", "-c", c1], v1(f"/kubepods.slice/kubepods-besteffort.slice/{crpod}/crio-conmon-{c1}.scope"))
proc(6001, 6000, "worker", ["/usr/local/bin/worker"], v1(f"/kubepods.slice/kubepods-besteffort.slice/{crpod}/crio-{c1}.scope"))
# podman (rootless, cgroup v2)
p1 = cid("podman-web")
proc(7001, 1, "httpd", ["httpd", "-DFOREGROUND"], f"0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{p1}.scope/container\n", uid=1000)
# host services (systemd units) and a login session
proc(900, 1, "cron", ["/usr/sbin/cron", "-f"], "0::/system.slice/cron.service\n")
proc(901, 900, "sh", ["/bin/sh", "-c", "run-parts /etc/cron.hourly"], "0::/system.slice/cron.service\n")
proc(950, 1, "bash", ["-bash"], "0::/user.slice/user-1000.slice/session-3.scope\n", uid=1000)
# a workload whose middle process exited mid-read (stat and cgroup listed, nothing else), with a child below it
proc(8000, 1, "supervisor", ["/usr/bin/supervisor"], "0::/system.slice/supervisor.service\n")
proc(8001, 8000, "gone", ["/usr/bin/gone"], "0::/system.slice/supervisor.service\n")
os.remove("8001/cmdline")
os.remove("8001/status")
proc(8002, 8001, "orphan", ["/usr/bin/orphan"], "0::/system.slice/supervisor.service\n")
# a stat line that is not one
os.makedirs("8100", exist_ok=True)
open("8100/stat", "w").write("8100 (broken\n")
