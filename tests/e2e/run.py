#!/usr/bin/python3
# run.py — warren's end-to-end tests: a private containerd 2.1 (harness.py),
# driven through ctr and CRI (cri.py), against one runtime handler.
#
# usage: /usr/bin/python3 tests/e2e/run.py [--runtime runc|warren-ns] [-k SUBSTR]... [--list] [-v]
#   --runtime   CRI runtime handler / ctr runtime under test (default warren-ns:
#               io.containerd.warren-ns.v2 via $WARREN_SHIM, default
#               build/bin/containerd-shim-warren-v2; runc: the stock runc shim)
#   -k SUBSTR   run only cases whose name contains SUBSTR (repeatable)
#   -v          containerd at debug log level
# Run as root.  Prints "=== case", "--- ok: case (s)" / "--- FAILED: case (s)" /
# "--- skipped: case (reason)", then "N passed, N failed, N skipped"; exits 1
# if anything failed.  Every case cleans up after itself and then the leak
# checker must find nothing left; "teardown" stops containerd and checks that
# nothing at all is left.  Daemon logs of the last run: build/e2e/logs/.
import argparse
import glob
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BADENTRY, BUSYBOX, PAUSE, RUNTIME_TYPES  # noqa: E402

CASES = []


def case(name):
    def deco(fn):
        CASES.append((name, fn))
        return fn
    return deco


class Skip(Exception):
    pass


def check(cond, msg, *args):
    if not cond:
        raise AssertionError(msg % args if args else msg)


def expect_rpc_error(t, fn, code=None, contains=None):
    """fn() must fail with a gRPC error (of `code`, whose details contain
    `contains`); returns the error."""
    try:
        fn()
    except t.cri.grpc.RpcError as e:
        if code is not None:
            check(e.code() == getattr(t.cri.grpc.StatusCode, code),
                  "expected %s, got %s: %s", code, e.code().name, e.details())
        if contains is not None:
            check(contains in e.details(), "error %r does not mention %r", e.details(), contains)
        return e
    raise AssertionError("call succeeded, expected an error")


class Events:
    """`ctr events` in the background, lines collected by a thread."""

    LINE = re.compile(r"\s(/[a-z_-]+/[a-z_-]+)\s+(\{.*\})\s*$")

    def __init__(self, h):
        self.h = h
        self.lines = []
        self.lock = threading.Lock()
        self.proc = h.ctr_popen("events")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        # Subscribed once an event we cause shows up.
        ns = "e2e-sync-" + secrets.token_hex(4)
        h.ctr("namespaces", "create", ns)
        h.ctr("namespaces", "remove", ns)
        if not self.wait(lambda: any(ns in line for line in self.snapshot()), 10):
            raise AssertionError("ctr events saw nothing in 10 s: %s" % self.proc.stderr.read()
                                 if self.proc.poll() is not None else "ctr events saw nothing in 10 s")

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def topics(self, container_id, prefix="/tasks/"):
        out = []
        for line in self.snapshot():
            m = self.LINE.search(line)
            if not m or not m.group(1).startswith(prefix):
                continue
            try:
                ev = json.loads(m.group(2))
            except ValueError:
                continue
            if ev.get("container_id") == container_id:
                out.append(m.group(1))
        return out

    @staticmethod
    def wait(fn, deadline_s):
        end = time.monotonic() + deadline_s
        while not fn():
            if time.monotonic() > end:
                return False
            time.sleep(0.05)
        return True

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Ctx:
    """One case's view: the harness, the CRI client, the runtime under test,
    and what the case created (removed by cleanup() whatever happened)."""

    def __init__(self, h, runtime):
        self.h, self.cri, self.runtime = h, h.cri, runtime
        self.runtime_type = RUNTIME_TYPES[runtime]
        self.pods, self.ctrs, self.ctr_ids, self.closers = [], [], [], []
        self.n = 0

    def uniq(self, name):
        self.n += 1
        return "%s-%s-%d" % (name, self.h.token, self.n)

    def run_pod(self, name, **kw):
        name = self.uniq(name)
        kw.setdefault("log_dir", self.h.pod_log_dir(name))
        kw.setdefault("cgroup_parent", self.h.cgroup_parent)
        pod_id, cfg = self.cri.run_pod(name, self.runtime, **kw)
        self.pods.append(pod_id)
        return pod_id, cfg

    def create(self, pod_id, cfg, name, image=BUSYBOX, **kw):
        cid = self.cri.create_container(pod_id, cfg, name, image, **kw)
        self.ctrs.append(cid)
        return cid

    def ctr_args(self, cid):
        """ctr run flags: the runtime under test, our cgroup parent, and for
        runc a private runc root."""
        a = ["--runtime", self.runtime_type, "--cgroup", "%s/%s" % (self.h.cgroup_parent, cid)]
        if self.runtime == "runc":
            a += ["--runc-root", self.h.runc_root]
        return a

    def ctr_id(self, name):
        cid = self.uniq(name)
        self.ctr_ids.append(cid)
        self.h.note_id(cid)
        return cid

    def events(self):
        ev = Events(self.h)
        self.closers.append(ev.close)
        return ev

    def cleanup(self):
        errs = []
        for fn in self.closers:
            try:
                fn()
            except Exception as e:  # noqa: BLE001
                errs.append(str(e))
        gone = ("NOT_FOUND",)
        for cid in self.ctrs:
            for call in (lambda: self.cri.stop(cid, 0), lambda: self.cri.remove(cid)):
                try:
                    call()
                except self.cri.grpc.RpcError as e:
                    if e.code().name not in gone:
                        errs.append("container %s: %s" % (cid[:12], e.details()))
        for pod in self.pods:
            for call in (lambda: self.cri.stop_pod(pod), lambda: self.cri.remove_pod(pod)):
                try:
                    call()
                except self.cri.grpc.RpcError as e:
                    if e.code().name not in gone:
                        errs.append("pod %s: %s" % (pod[:12], e.details()))
        for cid in self.ctr_ids:
            r = self.h.ctr("tasks", "ls", "-q", check=False)
            if cid in r.stdout.split():
                self.h.ctr("tasks", "kill", "-s", "SIGKILL", cid, check=False)
                self.h.ctr("tasks", "delete", "-f", cid, check=False)
            r = self.h.ctr("containers", "ls", "-q", check=False)
            if cid in r.stdout.split():
                r = self.h.ctr("containers", "delete", cid, check=False)
                if r.returncode != 0:
                    errs.append("ctr container %s: %s" % (cid, r.stderr.strip()))
        return errs


# ---- helpers ----------------------------------------------------------------
def task_row(t, cid):
    """(pid, status) of a ctr task in namespace default, or None."""
    for line in t.h.ctr("tasks", "ls").stdout.split("\n")[1:]:
        f = line.split()
        if len(f) >= 3 and f[0] == cid:
            return int(f[1]), f[2]
    return None


def wait_task_status(t, cid, want, deadline_s=20):
    row = None
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        row = task_row(t, cid)
        if row and row[1] == want:
            return row
        time.sleep(0.1)
    raise AssertionError("task %s: wanted %s, have %s" % (cid, want, row))


def host_children(pid):
    return [p for p, (pp, _, st) in harness.proc_table().items() if pp == pid and st != "Z"]


def ns_links(t, cid):
    out = t.cri.out(cid, ["sh", "-c", "for n in net ipc uts pid; do readlink /proc/self/ns/$n; done"])
    return dict(zip(("net", "ipc", "uts", "pid"), out.split("\n")))


def read_file(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def image_refs(t, ns, image):
    """Refs (names and CRI's sha256:<id> refs) pointing at image's manifest."""
    rows = [line.split() for line in t.h.ctr("images", "ls", ns=ns).stdout.split("\n")[1:]]
    digest = next((r[2] for r in rows if len(r) > 2 and r[0] == image), None)
    return [r[0] for r in rows if digest and len(r) > 2 and r[2] == digest]


# ---- cases ------------------------------------------------------------------------
@case("ctr_run")
def ctr_run(t):
    h = t.h
    ev = t.events()
    # Exit status propagation through ctr run (attached, --rm).
    id1 = t.ctr_id("hello")
    r = h.ctr("run", "--rm", *t.ctr_args(id1), BUSYBOX, id1, "sh", "-c", "echo hello; exit 3",
              check=False, timeout=60)
    check(r.returncode == 3, "ctr run exited %d, want 3; stdout %r stderr %r",
          r.returncode, r.stdout, r.stderr)
    check("hello" in r.stdout, "ctr run output %r lacks hello", r.stdout)
    check(id1 not in h.ctr("containers", "ls", "-q").stdout.split(), "--rm left %s", id1)

    # A detached task: RUNNING, SIGTERM, STOPPED, delete.
    id2 = t.ctr_id("long")
    h.ctr("run", "-d", *t.ctr_args(id2), BUSYBOX, id2,
          "sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait")
    pid, _ = wait_task_status(t, id2, "RUNNING")
    # The trap is set once sh has forked sleep (a pid 1 without a handler ignores SIGTERM).
    check(Events.wait(lambda: host_children(pid), 10), "container sh (pid %d) never started sleep", pid)
    h.ctr("tasks", "kill", id2)
    wait_task_status(t, id2, "STOPPED")
    h.ctr("tasks", "delete", id2)
    check(task_row(t, id2) is None, "task %s still listed after delete", id2)
    h.ctr("containers", "delete", id2)
    check(id2 not in h.ctr("containers", "ls", "-q").stdout.split(), "container %s not deleted", id2)

    want = ["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"]
    for cid in (id1, id2):
        Events.wait(lambda: "/tasks/delete" in ev.topics(cid), 5)
        got = [x for x in ev.topics(cid) if x in want]
        if t.runtime == "runc" and got == want[:3]:
            # containerd-shim-runc-v2 forwards events asynchronously and
            # sometimes exits (Shutdown right after Delete) before
            # /tasks/delete is out: a known stock-shim race, tolerated for
            # the reference runtime only.
            print("    note: runc shim lost /tasks/delete of %s (known race)" % cid)
            continue
        check(got == want, "events for %s: %s, want %s", cid, got, want)


@case("cri_pod")
def cri_pod(t):
    cri = t.cri
    dns = {"servers": ["192.0.2.53"], "searches": ["e2e.example"], "options": ["ndots:2"]}
    pod, cfg = t.run_pod("pod", hostname="e2e-pod", dns=dns)
    st = cri.pod_status(pod)
    check(cri.pod_state(pod) == "SANDBOX_READY", "pod state %s", cri.pod_state(pod))
    check(st.metadata.name == cfg.metadata.name, "pod name %r", st.metadata.name)
    net = t.h.subnet.rsplit(".", 1)[0] + "."
    check(st.network.ip.startswith(net), "pod IP %r not in %s", st.network.ip, t.h.subnet)

    cid = t.create(pod, cfg, "c1", command=["sh", "-c", "echo started; sleep 1000"], log_path="c1.log")
    check(cri.state(cid) == "CONTAINER_CREATED", "after create: %s", cri.state(cid))
    cri.start(cid)
    check(cri.state(cid) == "CONTAINER_RUNNING", "after start: %s", cri.state(cid))

    code, out, err = cri.exec_sync(cid, ["sh", "-c", "echo hi; exit 7"])
    check((code, out) == (7, b"hi\n"), "exec: exit %d stdout %r stderr %r", code, out, err)
    check(cri.out(cid, ["hostname"]) == "e2e-pod", "hostname in container")
    # no signal ignored in an exec'd process, as with the runc shim (a
    # SIG_IGN survives exec from whoever spawned runc)
    ign = cri.out(cid, ["grep", "SigIgn", "/proc/self/status"])
    check(ign == "SigIgn:\t0000000000000000", "ignored signals in an exec: %r", ign)
    addrs = cri.out(cid, ["ip", "-o", "-4", "addr", "show"])
    check(" %s/" % st.network.ip in addrs, "container is not in the pod's CNI netns "
          "(no %s): %r", st.network.ip, addrs)
    resolv = cri.out(cid, ["cat", "/etc/resolv.conf"])
    for want in ("nameserver 192.0.2.53", "search e2e.example", "options ndots:2"):
        check(want in resolv, "resolv.conf lacks %r: %r", want, resolv)

    log_path = os.path.join(cfg.log_directory, "c1.log")
    line = re.compile(r"^\S+ stdout F started$", re.M)
    check(Events.wait(lambda: line.search(read_file(log_path)), 10),
          "log %s: %r lacks '<time> stdout F started'", log_path, read_file(log_path))

    cri.stop(cid, grace=1)
    s = cri.status(cid)
    check(cri.state(cid) == "CONTAINER_EXITED", "after stop: %s", cri.state(cid))
    check(s.exit_code == 137, "exit code %d after SIGKILL, want 137", s.exit_code)
    cri.remove(cid)
    expect_rpc_error(t, lambda: cri.status(cid), code="NOT_FOUND")

    cri.stop_pod(pod)
    check(cri.pod_state(pod) == "SANDBOX_NOTREADY", "after stop: %s", cri.pod_state(pod))
    cri.remove_pod(pod)
    expect_rpc_error(t, lambda: cri.pod_status(pod), code="NOT_FOUND")
    check(not [p for p in cri.list_pods() if p.id == pod], "pod still listed")
    check(not cri.list_containers(), "containers still listed")


@case("cri_shared_ns")
def cri_shared_ns(t):
    cri = t.cri
    pod, cfg = t.run_pod("shared", hostname="e2e-shared")
    c1 = t.create(pod, cfg, "one", command=["sleep", "1000"])
    c2 = t.create(pod, cfg, "two", command=["sleep", "1000"])
    cri.start(c1)
    cri.start(c2)
    n1, n2 = ns_links(t, c1), ns_links(t, c2)
    host = {k: os.readlink("/proc/self/ns/" + k) for k in ("net", "ipc", "uts", "pid")}
    for k in ("net", "ipc", "uts"):
        check(n1[k] == n2[k], "%s namespace differs between containers: %s vs %s", k, n1[k], n2[k])
        check(n1[k] != host[k], "%s namespace is the host's (%s)", k, host[k])
    check(n1["pid"] != n2["pid"], "pid namespace shared although pid=CONTAINER: %s", n1["pid"])
    for c in (c1, c2):
        check(cri.out(c, ["hostname"]) == "e2e-shared", "hostname in %s", c[:12])
    for c in (c1, c2):
        cri.stop(c, grace=0)
        cri.remove(c)
    cri.stop_pod(pod)
    cri.remove_pod(pod)


def free_tcp_port():
    """A random TCP port that nothing on the host listens on and no nat rule
    maps."""
    mapped = " ".join(harness.nat_rules("iptables"))
    for _ in range(500):
        port = 20000 + secrets.randbelow(30000)
        if re.search(r"--dport %d\b" % port, mapped):
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("0.0.0.0", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise AssertionError("no free TCP port found")


def http_get(host, port, timeout=3):
    """GET / from host:port: (True, body text) or (False, the error)."""
    import urllib.request
    try:
        with urllib.request.urlopen("http://%s:%d/" % (host, port), timeout=timeout) as r:
            return True, r.read().decode(errors="replace").strip()
    except OSError as e:  # URLError, ConnectionRefusedError, timeouts
        return False, str(getattr(e, "reason", e))


@case("port_mapping")
def port_mapping(t):
    """A pod with a PortMapping (TCP, container port 8080 → a free host port
    picked at random): the container's httpd answers on 127.0.0.1:<host
    port> through CNI's portmap plugin with the page only that container
    has; nothing answers there before the pod exists nor after it is
    stopped, and no nat rule of the pod is left."""
    cri = t.cri
    port = free_tcp_port()
    token = "warren-%s" % secrets.token_hex(8)
    ok, why = http_get("127.0.0.1", port)
    check(not ok, "something answers on host port %d before the pod exists", port)
    pod, cfg = t.run_pod("ports", port_mappings=[{"container_port": 8080, "host_port": port}])
    ip = cri.pod_status(pod).network.ip
    check(ip, "pod has no IP")
    cid = t.create(pod, cfg, "web", command=["sh", "-c", "mkdir -p /www && echo %s > /www/index.html "
                                               "&& exec httpd -f -p 8080 -h /www" % token])
    cri.start(cid)
    # the server is up (inside the pod's network namespace) ...
    check(Events.wait(lambda: token in cri.exec_sync(cid, ["wget", "-q", "-O", "-",
                                                          "http://127.0.0.1:8080/"])[1].decode(), 10),
          "httpd in the container does not answer on its port 8080")
    # ... and reachable from the host through the host port
    res = {}
    check(Events.wait(lambda: res.update(r=http_get("127.0.0.1", port)) or res["r"][0], 15),
          "host port %d does not reach the container: %s", port, res["r"][1])
    check(res["r"][1] == token, "host port %d answered %r, want the container's page %r",
          port, res["r"][1], token)
    dnat = [line for line in harness.nat_rules("iptables")
            if re.search(r"--dport %d\b" % port, line) and "%s:8080" % ip in line]
    check(dnat, "no DNAT rule to %s:8080 for host port %d", ip, port)
    cri.stop(cid, grace=0)
    cri.remove(cid)
    cri.stop_pod(pod)
    # the pod's network is gone with StopPodSandbox: so is its mapping
    ok, body = http_get("127.0.0.1", port)
    check(not ok, "host port %d still answers after StopPodSandbox: %r", port, body)
    left = harness.nat_leftovers(t.h.netname, [pod])
    check(not left, "nat rules of the stopped pod: %s", left)
    cri.remove_pod(pod)


@case("no_pause")
def no_pause(t):
    if t.runtime == "runc":
        raise Skip("the runc handler runs a pause container by design")
    h, cri = t.h, t.cri
    # Without the sandbox image in k8s.io, a handler that needed it would
    # have to pull it (and fail: there is no registry).
    refs = image_refs(t, "k8s.io", PAUSE)
    check(refs, "%s not in namespace k8s.io", PAUSE)
    h.ctr("images", "rm", *refs, ns="k8s.io")
    t.closers.append(lambda: h.import_images(("k8s.io",), names=[PAUSE]))

    pod, cfg = t.run_pod("nopause")
    cid = t.create(pod, cfg, "app", command=["sleep", "1000"])
    cri.start(cid)
    check(cri.state(cid) == "CONTAINER_RUNNING", "container %s", cri.state(cid))

    tags = [tag for img in cri.list_images() for tag in img.repo_tags]
    check(not [x for x in tags if "pause" in x], "CRI lists a pause image: %s", tags)
    rows = [line.split() for line in h.ctr("containers", "ls", ns="k8s.io").stdout.split("\n")[1:] if line.strip()]
    check(not [r for r in rows if r[0] == pod], "sandbox %s is a containerd container", pod[:12])
    check(not [r for r in rows if len(r) > 1 and "pause" in r[1]], "pause container: %s", rows)
    check([r[0] for r in rows] == [cid], "k8s.io containers %s, want only %s", [r[0] for r in rows], cid)

    bad = []
    for p in h.runtime_procs():
        name = harness.exe_name(p)
        if name.startswith("containerd-shim") or (name not in harness.RESIDENT
                                                  and harness.pidns(p) == h.host_pidns):
            bad.append(harness.proc_desc(p))
    check(not bad, "processes besides warrend and the container's: %s", bad)

    cri.stop(cid, grace=0)
    cri.remove(cid)
    cri.stop_pod(pod)
    cri.remove_pod(pod)


@case("containerd_restart")
def containerd_restart(t):
    """containerd restarts while a pod runs (as on a node upgrade): it
    reconnects from bootstrap.json, Connects, and the pod stays manageable."""
    cri = t.cri
    pod, cfg = t.run_pod("restart", hostname="restart-pod")
    cid = t.create(pod, cfg, "c1", command=["sleep", "1000"])
    cri.start(cid)
    before = cri.pod_status(pod).network.ip
    with open(t.h.log_path, errors="replace") as f:
        log_mark = len(f.read())
    t.h.restart()
    check(cri.pod_state(pod) == "SANDBOX_READY", "pod after restart: %s", cri.pod_state(pod))
    check(cri.state(cid) == "CONTAINER_RUNNING", "container after restart: %s", cri.state(cid))
    check(cri.pod_status(pod).network.ip == before, "pod IP changed")
    check(cri.out(cid, ["hostname"]) == "restart-pod", "exec after restart")
    with open(t.h.log_path, errors="replace") as f:
        after = f.read()[log_mark:]
    check("shim disconnected" not in after and "cleaning up dead shim" not in after,
          "containerd declared warren dead after its restart")
    cri.stop(cid, grace=1)
    check(cri.status(cid).exit_code == 137, "exit code %d", cri.status(cid).exit_code)
    cri.remove(cid)
    cri.stop_pod(pod)
    cri.remove_pod(pod)


@case("output_through_containerd_restart")
def output_through_containerd_restart(t):
    """A container that writes to stdout all the time keeps running through
    a containerd restart, while nothing reads its output, and what it
    writes afterwards reaches its log again."""
    cri = t.cri
    pod, cfg = t.run_pod("chatty")
    cid = t.create(pod, cfg, "c1", log_path="c1.log", command=[
        "sh", "-c", "i=0; while true; do i=$((i+1)); echo line $i; sleep 0.01; done"])
    cri.start(cid)
    log_path = os.path.join(cfg.log_directory, "c1.log")
    lines = lambda: read_file(log_path).count("\n") if os.path.exists(log_path) else 0
    check(Events.wait(lambda: lines() >= 20, 10), "no output before the restart: %d lines", lines())
    t.h.restart()
    time.sleep(1)   # the container keeps writing while containerd settles
    check(cri.state(cid) == "CONTAINER_RUNNING", "container after restart: %s (log ends %r)",
          cri.state(cid), read_file(log_path)[-200:])
    n = lines()
    check(Events.wait(lambda: lines() >= n + 20, 10),
          "no output after the restart: %d lines, then %d", n, lines())
    check(cri.state(cid) == "CONTAINER_RUNNING", "container: %s", cri.state(cid))
    cri.stop(cid, grace=1)
    cri.remove(cid)
    cri.stop_pod(pod)
    cri.remove_pod(pod)


def cgroup_file(t, cid, controller, name):
    """A file of the container's cgroup (v1 hierarchy, or the unified one)."""
    for base in ("/sys/fs/cgroup/%s%s/%s" % (controller, t.h.cgroup_parent, cid),
                 "/sys/fs/cgroup%s/%s" % (t.h.cgroup_parent, cid)):
        p = os.path.join(base, name)
        if os.path.exists(p):
            return read_file(p).strip()
    raise AssertionError("no cgroup file %s for %s" % (name, cid[:12]))


def check_cgroup_limits(t, cid, memory, quota, period, when):
    """The container's cgroup has this memory limit and CPU quota/period."""
    v1 = os.path.isdir("/sys/fs/cgroup/memory")
    mem = cgroup_file(t, cid, "memory", "memory.limit_in_bytes" if v1 else "memory.max")
    check(int(mem) == memory, "memory limit %s: %s", when, mem)
    if v1:
        got = cgroup_file(t, cid, "cpu", "cpu.cfs_quota_us")
        check(got == str(quota), "cpu quota %s: %s", when, got)
    else:
        got = cgroup_file(t, cid, "", "cpu.max")
        check(got == "%d %d" % (quota, period), "cpu.max %s: %s", when, got)


@case("host_network")
def host_network(t):
    """network = NODE: the container is in the host's network namespace and
    sees the host's hostname; IPC stays the pod's."""
    if t.runtime != "runc" and t.h.containerd_version() == "2.1.9":
        # containerd 2.1.9's sandbox controller dereferences the nil spec CRI
        # gives a shim sandboxer for a hostNetwork pod (core/runtime/v2/
        # bundle.go, NewBundle) and panics before warren is called; fixed in
        # later containerd, whose NewBundle checks spec for nil.
        raise Skip("containerd 2.1.9 panics on hostNetwork pods of shim sandboxers")
    cri = t.cri
    pod, cfg = t.run_pod("hostnet", network="NODE")
    cid = t.create(pod, cfg, "c1", command=["sleep", "1000"], network="NODE")
    cri.start(cid)
    host_net = os.readlink("/proc/self/ns/net")
    check(cri.out(cid, ["readlink", "/proc/self/ns/net"]) == host_net,
          "not in the host's network namespace")
    check(cri.out(cid, ["hostname"]) == os.uname().nodename, "hostname is not the node's")
    check(cri.out(cid, ["readlink", "/proc/self/ns/ipc"]) != os.readlink("/proc/self/ns/ipc"),
          "IPC should be the pod's, not the host's")


@case("host_ipc_pid")
def host_ipc_pid(t):
    """ipc = NODE and pid = NODE: the container shares the host's IPC and PID
    namespaces (it sees the host's processes and no /dev/shm of the pod's),
    while network and UTS stay the pod's."""
    cri = t.cri
    pod, cfg = t.run_pod("hostipcpid", ipc="NODE", pid="NODE")
    cid = t.create(pod, cfg, "c1", command=["sleep", "1000"], ipc="NODE", pid="NODE")
    cri.start(cid)
    for ns in ("ipc", "pid"):
        check(cri.out(cid, ["readlink", "/proc/self/ns/" + ns]) == os.readlink("/proc/self/ns/" + ns),
              "not in the host's %s namespace", ns)
    check(cri.out(cid, ["readlink", "/proc/self/ns/net"]) != os.readlink("/proc/self/ns/net"),
          "network should be the pod's, not the host's")
    # this test's own process is visible, by its host pid (not by `ls /proc`:
    # a host process exiting mid-listing makes ls fail)
    me = os.getpid()
    stat = cri.out(cid, ["cat", "/proc/%d/stat" % me])
    check(stat.startswith("%d (" % me), "the test's pid %d is not visible in a host-PID "
          "container: %r", me, stat[:80])
    cri.stop(cid, grace=0)
    cri.remove(cid)
    cri.stop_pod(pod)
    cri.remove_pod(pod)


@case("security_context")
def security_context(t):
    """run as user/group, read-only rootfs, no_new_privs, dropped and added
    capabilities, privileged — as seen from inside the container."""
    cri = t.cri
    pod, cfg = t.run_pod("secctx")

    def restricted(c, pb):
        sc = c.linux.security_context
        sc.run_as_user.value = 1000
        sc.run_as_group.value = 1000
        sc.readonly_rootfs = True
        sc.no_new_privs = True
        sc.capabilities.drop_capabilities.append("ALL")
        sc.capabilities.add_capabilities.append("NET_BIND_SERVICE")
    cid = t.create(pod, cfg, "restricted", command=["sleep", "1000"], tweak=restricted)
    cri.start(cid)
    check(cri.out(cid, ["id", "-u"]) == "1000", "uid")
    check(cri.out(cid, ["id", "-g"]) == "1000", "gid")
    code, _, _ = cri.exec_sync(cid, ["touch", "/probe"])
    check(code != 0, "read-only rootfs is writable")
    status = cri.out(cid, ["cat", "/proc/self/status"])
    check(re.search(r"^NoNewPrivs:\s+1$", status, re.M), "no_new_privs not set")
    capbnd = int(re.search(r"^CapBnd:\s+([0-9a-f]+)$", status, re.M).group(1), 16)
    check(capbnd == 1 << 10, "bounding set %x, want only NET_BIND_SERVICE (bit 10)", capbnd)

    def privileged(c, pb):
        c.linux.security_context.privileged = True
    pod, cfg = t.run_pod("privileged", privileged=True)
    cid2 = t.create(pod, cfg, "privileged", command=["sleep", "1000"], tweak=privileged)
    cri.start(cid2)
    status = cri.out(cid2, ["cat", "/proc/self/status"])
    capeff = int(re.search(r"^CapEff:\s+([0-9a-f]+)$", status, re.M).group(1), 16)
    check(capeff & (1 << 21), "privileged container lacks CAP_SYS_ADMIN (CapEff %x)", capeff)


@case("mounts_and_limits")
def mounts_and_limits(t):
    """a read-only bind mount and a writable one, and CPU/memory limits that
    reach the container's cgroup."""
    cri = t.cri
    pod, cfg = t.run_pod("limits")
    host_dir = os.path.join(t.h.base, "bind-" + t.uniq("m"))
    os.makedirs(host_dir)
    with open(os.path.join(host_dir, "hello"), "w") as f:
        f.write("from the host\n")
    rw_dir = host_dir + "-rw"
    os.makedirs(rw_dir)

    def limits(c, pb):
        c.mounts.append(pb.Mount(container_path="/data", host_path=host_dir, readonly=True))
        c.mounts.append(pb.Mount(container_path="/out", host_path=rw_dir))
        r = c.linux.resources
        r.memory_limit_in_bytes = 64 * 1024 * 1024
        r.cpu_period = 100000
        r.cpu_quota = 50000
    cid = t.create(pod, cfg, "c1", command=["sleep", "1000"], tweak=limits)
    cri.start(cid)
    check(cri.out(cid, ["cat", "/data/hello"]) == "from the host", "bind mount content")
    code, _, _ = cri.exec_sync(cid, ["touch", "/data/x"])
    check(code != 0, "read-only bind mount is writable")
    cri.out(cid, ["sh", "-c", "echo written > /out/f"])
    check(read_file(os.path.join(rw_dir, "f")) == "written\n", "write through the rw mount")
    check_cgroup_limits(t, cid, 64 * 1024 * 1024, 50000, 100000, "at create")
    # CRI's ContainerStats come from the runtime's Stats: real, non-zero figures
    cri.out(cid, ["sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"])
    stats = cri.rt.ContainerStats(cri.pb.ContainerStatsRequest(container_id=cid), timeout=30).stats
    check(stats.cpu.usage_core_nano_seconds.value > 0, "cpu usage %d",
          stats.cpu.usage_core_nano_seconds.value)
    check(stats.memory.working_set_bytes.value > 0 or stats.memory.usage_bytes.value > 0,
          "memory usage 0: %s", stats.memory)
    cri.stop(cid, grace=1)
    cri.remove(cid)
    shutil.rmtree(host_dir)
    shutil.rmtree(rw_dir)


def is_mountpoint(path):
    return os.path.realpath(path) in harness.mounts_under(os.path.realpath(path))


def unmount_tree(top):
    """Unmount everything at or below top (deepest first); True when none is left."""
    for _ in range(10):
        pts = harness.mounts_under(top)
        if not pts:
            return True
        for mp in pts:
            if harness.umount(mp) not in (0, 22):
                harness.umount(mp, detach=True)
    return not harness.mounts_under(top)


@case("mount_propagation")
def mount_propagation(t):
    """Bind mounts with each CRI propagation, from a host directory that is a
    shared mount (as kubelet's are): PROPAGATION_HOST_TO_CONTAINER (rslave)
    sees a mount the host makes under it after the container started, and a
    mount made inside does not reach the host; PROPAGATION_BIDIRECTIONAL
    (rshared) sees the host's and the host sees one made inside; and
    PROPAGATION_PRIVATE sees neither way.  (All three privileged, so each
    can try to mount.)"""
    cri, pb = t.cri, t.cri.pb
    top = os.path.join(t.h.base, t.uniq("prop"))
    t.closers.append(lambda: unmount_tree(top + "/"))
    modes = {"private": pb.PROPAGATION_PRIVATE, "slave": pb.PROPAGATION_HOST_TO_CONTAINER,
             "shared": pb.PROPAGATION_BIDIRECTIONAL}
    for m in modes:
        src = os.path.join(top, m)
        for d in ("host", "ctr"):
            os.makedirs(os.path.join(src, d))
        harness.run(["mount", "--bind", src, src])
        harness.run(["mount", "--make-shared", src])
    pod, cfg = t.run_pod("prop", privileged=True)
    cids = {}
    for m, prop in modes.items():
        def vol(c, pb, src=os.path.join(top, m), prop=prop):
            c.linux.security_context.privileged = True
            c.mounts.append(pb.Mount(container_path="/vol", host_path=src, propagation=prop))
        cids[m] = t.create(pod, cfg, m, command=["sleep", "1000"], tweak=vol)
        cri.start(cids[m])
    token = secrets.token_hex(8)
    for m in modes:
        # the host mounts a tmpfs under each source, after the containers started
        host = os.path.join(top, m, "host")
        harness.run(["mount", "-t", "tmpfs", "-o", "size=1m", "e2e-prop", host])
        with open(os.path.join(host, "marker"), "w") as f:
            f.write("host-%s-%s\n" % (m, token))
        # each container mounts a tmpfs under its /vol
        cri.out(cids[m], ["sh", "-c", "mount -t tmpfs -o size=1m e2e-ctr /vol/ctr && "
                                      "echo ctr-%s-%s > /vol/ctr/marker" % (m, token)])
    for m in modes:
        code, out, _ = cri.exec_sync(cids[m], ["cat", "/vol/host/marker"])
        seen = code == 0 and out.decode().strip() == "host-%s-%s" % (m, token)
        want = m != "private"
        check(seen == want, "%s container %s the host's later mount under its volume "
              "(cat: exit %d, %r)", m, "does not see" if want else "sees", code, out)
        marker = os.path.join(top, m, "ctr", "marker")
        seen = is_mountpoint(os.path.join(top, m, "ctr")) and \
            read_file(marker).strip() == "ctr-%s-%s" % (m, token)
        want = m == "shared"
        check(seen == want, "the host %s the mount the %s container made under its volume "
              "(%s: %r)", "does not see" if want else "sees", m, marker, read_file(marker))
    for cid in cids.values():
        cri.stop(cid, grace=0)
        cri.remove(cid)
    cri.stop_pod(pod)
    cri.remove_pod(pod)
    check(unmount_tree(top + "/"), "mounts left under %s: %s", top, harness.mounts_under(top + "/"))
    shutil.rmtree(top)


def refused_pod_error(t, name, **pod_kw):
    """A pod whose configuration the runtime refuses: the runc handler's
    RunPodSandbox fails (its pause container), a warren pod (no process)
    fails at its first container's start.  Either way the container is not
    left RUNNING and the pod is removed; returns the error's details."""
    cri = t.cri
    try:
        pod, cfg = cri.run_pod(name, t.runtime, log_dir=t.h.pod_log_dir(name), **pod_kw)
        t.pods.append(pod)
    except cri.grpc.RpcError as e:
        return e.details()
    c = t.create(pod, cfg, "c", command=["sleep", "1000"])
    err = expect_rpc_error(t, lambda: cri.start(c)).details()
    check(cri.state(c) != "CONTAINER_RUNNING", "a start that failed left the container RUNNING")
    check(not [x for x in cri.list_containers(pod) if x.id == c and x.state == 1],
          "ListContainers shows the failed container RUNNING")
    cri.remove(c)
    cri.stop_pod(pod)
    cri.remove_pod(pod)
    expect_rpc_error(t, lambda: cri.pod_status(pod), code="NOT_FOUND")
    return err


@case("pod_sysctls")
def pod_sysctls(t):
    """The pod's sysctls (PodSandboxConfig.linux.sysctls, Kubernetes'
    securityContext.sysctls) hold in its namespaces: a network one and an
    IPC one, seen from inside the container, the host's own unchanged; an
    unknown one fails through CRI (RunPodSandbox, or the container's start)
    naming what the runtime could not write, and leaves nothing."""
    cri = t.cri
    want = {"net.ipv4.ip_local_port_range": "31000 41000", "kernel.shm_rmid_forced": "1"}
    host = {k: read_file("/proc/sys/" + k.replace(".", "/")).split() for k in want}
    pod, cfg = t.run_pod("sysctl", sysctls=want)
    cid = t.create(pod, cfg, "c1", command=["sleep", "1000"])
    cri.start(cid)
    for k, v in want.items():
        got = cri.out(cid, ["cat", "/proc/sys/" + k.replace(".", "/")]).split()
        check(got == v.split(), "sysctl %s in the container is %r, want %r", k, got, v)
        now = read_file("/proc/sys/" + k.replace(".", "/")).split()
        check(now == host[k], "the host's %s changed from %r to %r", k, host[k], now)
    cri.stop(cid, grace=0)
    cri.remove(cid)
    cri.stop_pod(pod)
    cri.remove_pod(pod)

    # What containerd's CRI gives every pod with its own network (its
    # enable_unprivileged_ports/_icmp defaults), unless the pod sets them.
    unpriv = {"net.ipv4.ip_unprivileged_port_start": ["0"],
              "net.ipv4.ping_group_range": ["0", "2147483647"]}
    for name, sysctls in (("plain", {}), ("ownport", {"net.ipv4.ip_unprivileged_port_start": "900"})):
        pod, cfg = t.run_pod(name, sysctls=sysctls)
        cid = t.create(pod, cfg, "c1", command=["sleep", "1000"])
        cri.start(cid)
        for k, v in unpriv.items():
            v = sysctls[k].split() if k in sysctls else v
            got = cri.out(cid, ["cat", "/proc/sys/" + k.replace(".", "/")]).split()
            check(got == v, "pod %s: %s is %r, want %r", name, k, got, v)
        cri.stop(cid, grace=0)
        cri.remove(cid)
        cri.stop_pod(pod)
        cri.remove_pod(pod)

    name = t.uniq("badsysctl")
    err = refused_pod_error(t, name, cgroup_parent=t.h.cgroup_parent,
                            sysctls={"net.ipv4.notreal": "1"})
    check("/proc/sys/net/ipv4/notreal" in err and "no such file" in err.lower(),
          "the error does not say /proc/sys/net/ipv4/notreal is missing: %s", err)
    check(not [p for p in cri.list_pods() if p.metadata.name == name], "pod %s is still listed", name)


@case("update_pause")
def update_pause(t):
    """UpdateContainerResources changes the running container's cgroup
    (memory limit, CPU quota) and CRI reports the new values; ctr's pause
    freezes the task (PAUSED, the freezer says so, /tasks/paused) and resume
    thaws it (RUNNING, /tasks/resumed)."""
    cri, h = t.cri, t.h
    pod, cfg = t.run_pod("update")

    def limits(c, pb):
        c.linux.resources.memory_limit_in_bytes = 64 * 1024 * 1024
        c.linux.resources.cpu_period = 100000
        c.linux.resources.cpu_quota = 50000
    cid = t.create(pod, cfg, "c1", command=["sleep", "1000"], tweak=limits)
    cri.start(cid)
    cri.update_resources(cid, memory_limit_in_bytes=96 * 1024 * 1024, cpu_period=100000,
                         cpu_quota=20000)
    check_cgroup_limits(t, cid, 96 * 1024 * 1024, 20000, 100000, "after the update")
    v1 = os.path.isdir("/sys/fs/cgroup/memory")
    res = cri.status(cid).resources.linux
    check(res.memory_limit_in_bytes == 96 * 1024 * 1024 and res.cpu_quota == 20000,
          "ContainerStatus resources after the update: %s", res)
    check(cri.out(cid, ["echo", "alive"]) == "alive", "exec after the update")
    cri.stop(cid, grace=0)
    cri.remove(cid)
    cri.stop_pod(pod)
    cri.remove_pod(pod)

    # Pause and resume through the Task API.
    ev = t.events()
    tid = t.ctr_id("frozen")
    h.ctr("run", "-d", *t.ctr_args(tid), BUSYBOX, tid, "sleep", "1000")
    wait_task_status(t, tid, "RUNNING")
    h.ctr("tasks", "pause", tid)
    wait_task_status(t, tid, "PAUSED")
    state = cgroup_file(t, tid, "freezer", "freezer.state") if v1 else \
        cgroup_file(t, tid, "", "cgroup.freeze")
    check(state in ("FROZEN", "1"), "freezer after pause: %s", state)
    h.ctr("tasks", "resume", tid)
    wait_task_status(t, tid, "RUNNING")
    state = cgroup_file(t, tid, "freezer", "freezer.state") if v1 else \
        cgroup_file(t, tid, "", "cgroup.freeze")
    check(state in ("THAWED", "0"), "freezer after resume: %s", state)
    h.ctr("tasks", "kill", "-s", "KILL", tid)
    wait_task_status(t, tid, "STOPPED")
    h.ctr("tasks", "delete", tid)
    h.ctr("containers", "delete", tid)
    check(Events.wait(lambda: "/tasks/resumed" in ev.topics(tid), 5),
          "events for %s: %s", tid, ev.topics(tid))
    got = [x for x in ev.topics(tid) if x in ("/tasks/paused", "/tasks/resumed")]
    check(got == ["/tasks/paused", "/tasks/resumed"], "pause events for %s: %s", tid, got)


@case("exec_timeout")
def exec_timeout(t):
    """ExecSync with a timeout ends the exec process and reports it; the
    container keeps running."""
    cri = t.cri
    pod, cfg = t.run_pod("exectimeout")
    cid = t.create(pod, cfg, "c1", command=["sleep", "1000"])
    cri.start(cid)
    t0 = time.monotonic()
    try:
        cri.exec_sync(cid, ["sleep", "30"], exec_timeout=1)
        raise AssertionError("ExecSync with timeout 1 s returned normally")
    except cri.grpc.RpcError as e:
        check("timeout" in e.details().lower(), "error %r does not say timeout", e.details())
    check(time.monotonic() - t0 < 15, "the timeout took %.1f s", time.monotonic() - t0)
    check(cri.state(cid) == "CONTAINER_RUNNING", "container after exec timeout: %s",
          cri.state(cid))
    check(cri.out(cid, ["echo", "ok"]) == "ok", "exec after a timed-out exec")


@case("oom_killed")
def oom_killed(t):
    """A container killed by its memory limit: exit code 137 and reason
    OOMKilled in CRI (containerd learns it from /tasks/oom)."""
    cri = t.cri
    pod, cfg = t.run_pod("oom")

    def small(c, pb):
        c.linux.resources.memory_limit_in_bytes = 16 * 1024 * 1024
    # busybox tail keeps a line in memory until it sees a newline: /dev/zero has none
    cid = t.create(pod, cfg, "hog", command=["tail", "/dev/zero"], tweak=small)
    cri.start(cid)
    check(Events.wait(lambda: cri.state(cid) == "CONTAINER_EXITED", 30),
          "the hog still runs: %s", cri.state(cid))
    st = cri.status(cid)
    check(st.exit_code == 137, "exit code %d, want 137", st.exit_code)
    check(Events.wait(lambda: cri.status(cid).reason == "OOMKilled", 10),
          "reason %r, want OOMKilled", cri.status(cid).reason)


def oom_kills(t, cid):
    """oom_kill count of the container's memory cgroup (v1 or v2), None if gone."""
    for name in ("memory.oom_control", "memory.events"):
        try:
            text = cgroup_file(t, cid, "memory", name)
        except AssertionError:
            continue
        for line in text.split("\n"):
            f = line.split()
            if len(f) == 2 and f[0] == "oom_kill":
                return int(f[1])
    return None


@case("oom_while_core_down")
def oom_while_core_down(t):
    """A container OOM-killed while warrend's core is stopped and then
    killed: the front reaps it, the next core's recovery journals the exit,
    and containerd still hears /tasks/oom before /tasks/exit, so CRI reports
    OOMKilled with 137."""
    cri = t.cri
    since, pod, cfg, c1, front, core = core_case_setup(t, "oomdown")
    t.closers.append(lambda: resume_warrend(t))

    def small(c, pb):
        c.linux.resources.memory_limit_in_bytes = 16 * 1024 * 1024
    # busybox tail keeps a line in memory until it sees a newline: /dev/zero
    # has none.  It starts eating 2 s after the start, when the core is stopped.
    hog = t.create(pod, cfg, "hog", command=["sh", "-c", "sleep 2; tail /dev/zero"], tweak=small)
    cri.start(hog)
    os.kill(core, signal.SIGSTOP)
    check(Events.wait(lambda: oom_kills(t, hog) == 1, 30),
          "the hog was not OOM-killed while the core was stopped (oom_kill %s)", oom_kills(t, hog))
    time.sleep(0.5)   # the front reaps it
    os.kill(core, signal.SIGKILL)
    core = new_core(t, front, core)
    check(cri.wait_state(hog, "CONTAINER_EXITED") == "CONTAINER_EXITED", "hog: %s", cri.state(hog))
    st = cri.status(hog)
    check(st.exit_code == 137, "exit code %d, want 137", st.exit_code)
    check(Events.wait(lambda: cri.status(hog).reason == "OOMKilled", 10),
          "reason %r, want OOMKilled", cri.status(hog).reason)
    assert_pod_serves(t, pod, [c1], "after the restart", since)
    for cid in (c1, hog):
        cri.stop(cid, grace=0)
        cri.remove(cid)
    cri.stop_pod(pod)
    cri.remove_pod(pod)


@case("ctr_tty")
def ctr_tty(t):
    """ctr run -t from a terminal of 30 rows and 90 columns: the process gets a
    pty, ctr's ResizePty (right after Start) gives it that size, its output
    reaches ctr's terminal, its exit code comes back, and --rm removes it.
    warren only: a CRI tty container is not hung up by a restart of warrend's
    core, and its output still reaches its log (see also tty_core_restart)."""
    h = t.h
    cid = t.ctr_id("tty")
    # The pty starts at 0x0 until ctr's ResizePty arrives: busybox stty then
    # fails, or prints nothing.
    script = ("i=0; until s=$(stty size 2>/dev/null) && [ -n \"$s\" ] && [ \"$s\" != '0 0' ]; "
              "do i=$((i+1)); [ $i -gt 100 ] && break; sleep 0.1; done; echo \"size $s\"; exit 5")
    argv = h.ctr_argv("default", "run", "--rm", "-t", *t.ctr_args(cid), BUSYBOX, cid,
                      "sh", "-c", script)
    d = TtyDriver(argv, 30, 90)
    try:
        d.expect(r"size 30 90\r*\n", 60, "stty size in the container (want 30 90)")
        rc = d.p.wait(timeout=30)
    finally:
        d.close()
    check(rc == 5, "ctr run -t exited %d, want 5", rc)
    check(cid not in h.ctr("containers", "ls", "-q").stdout.split(), "--rm left %s", cid)

    # A CRI container on a terminal (its output in the log), then kill -9 of
    # warrend's core.  The front holds the terminal's master and FIFOs while
    # no core runs (backends/ns/ns_tty.c): no SIGHUP, and the next core
    # copies its output to the log again.
    if t.runtime == "runc":
        return
    cri = t.cri
    since, pod, cfg, c1, front, core = core_case_setup(t, "tty")
    t.closers.append(lambda: resume_warrend(t))
    c2 = t.create(pod, cfg, "tty", tty=True, log_path="tty.log", command=[
        "sh", "-c", "trap 'exit 7' HUP; echo tty-ready; i=0; "
        "while :; do i=$((i+1)); echo tick-$i; sleep 0.2; done"])
    cri.start(c2)
    log = os.path.join(cfg.log_directory, "tty.log")
    check(Events.wait(lambda: "stdout F tty-ready" in read_file(log), 10),
          "log %s: %r lacks 'stdout F tty-ready'", log, read_file(log))
    os.kill(core, signal.SIGKILL)
    core = new_core(t, front, core)
    ticks = len(re.findall(r"stdout F tick-", read_file(log)))
    check(Events.wait(lambda: len(re.findall(r"stdout F tick-", read_file(log))) > ticks + 2, 10),
          "log %s: no new output after the core restart: %r", log, read_file(log)[-300:])
    check(cri.state(c2) == "CONTAINER_RUNNING", "tty container after the core restart: %s "
          "(exit code %d; 7: hung up)", cri.state(c2), cri.status(c2).exit_code)
    assert_pod_serves(t, pod, [c1, c2], "after the core restart", since)


class TtyDriver:
    """A pty whose slave is the controlling terminal of a command (ctr run
    -t): type into it, wait for what comes out, resize it."""

    def __init__(self, argv, rows, cols):
        import fcntl
        import pty
        import struct
        import termios
        self.fcntl, self.struct, self.termios = fcntl, struct, termios
        self.master, slave = pty.openpty()
        self.resize(rows, cols)

        def controlling_tty():  # in the child, after setsid
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        self.p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                                  start_new_session=True, preexec_fn=controlling_tty)
        os.close(slave)
        self.out = b""
        self.eof = False

    def resize(self, rows, cols):
        """Set the terminal's size: its foreground process (ctr) gets SIGWINCH."""
        self.fcntl.ioctl(self.master, self.termios.TIOCSWINSZ,
                         self.struct.pack("HHHH", rows, cols, 0, 0))

    def type(self, text):
        os.write(self.master, text.encode())

    def expect(self, pattern, deadline_s=20, what=""):
        """Read until regex pattern matches what came since the last match;
        returns the match."""
        import select
        end = time.monotonic() + deadline_s
        while True:
            m = re.search(pattern.encode(), self.out)
            if m:
                self.out = self.out[m.end():]
                return m
            check(not self.eof and time.monotonic() < end, "%s: no %r in the terminal's output "
                  "after %d s: %r", what, pattern, deadline_s, self.out[-400:])
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(self.master, 4096)
                except OSError:  # EIO: the command (last holder of the slave) is gone
                    data = b""
                self.eof = not data
                self.out += data

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        os.close(self.master)


def fds_of(pid):
    """The targets of /proc/<pid>/fd/*."""
    out = []
    d = "/proc/%d/fd" % pid
    for n in os.listdir(d) if os.path.isdir(d) else []:
        try:
            out.append(os.readlink(os.path.join(d, n)))
        except OSError:
            pass
    return out


@case("tty_core_restart")
def tty_core_restart(t):
    """An interactive `ctr run -t` shell and a `ctr tasks exec -t` shell in
    it survive restarts of warrend's core (issue #4): the front holds each
    pty master and its stdio FIFO ends while no core runs, and the next core
    resumes the copies.  After a kill -9 of the core, and again after a
    SIGHUP restart (the upgrade path), typed input is echoed and answered and
    a window resize reaches the shell (`stty size`); input typed while the
    core is stopped is answered by the next one; the exec's exit code comes
    back, and so does the shell's when it exits while the core is down; then
    the front holds nothing of them.  With --runtime runc (no core) the same
    steps run without the restarts."""
    h = t.h
    warren = t.runtime != "runc"
    cid = t.ctr_id("ttyrestart")
    argv = h.ctr_argv("default", "run", "--rm", "-t", *t.ctr_args(cid), BUSYBOX, cid, "sh")
    tty = TtyDriver(argv, 24, 80)
    t.closers.append(tty.close)
    if warren:
        t.closers.append(lambda: resume_warrend(t))
    n = [0]

    def answers(d, what):
        """Type a command; its echo and its answer come back."""
        n[0] += 1
        k = n[0]
        d.type("echo ans-$((%d*1000+%d))\r" % (k, k))
        d.expect(re.escape("echo ans-$((%d*1000+%d))" % (k, k)), what=what + ": echo")
        d.expect(r"\r*\nans-%d\r*\n" % (k * 1000 + k), what=what + ": answer")

    def size_is(d, rows, cols, what):
        # ctr forwards its SIGWINCH as ResizePty: the shell sees it shortly.
        # (A SIGWINCH before ctr's handler is installed is lost: then again.)
        end = time.monotonic() + 15
        while True:
            d.resize(rows, cols + 1)
            d.resize(rows, cols)
            time.sleep(0.2)
            d.type("stty size\r")
            m = d.expect(r"stty size\r*\n(\d+) (\d+)\r*\n", what=what + ": stty size")
            got = (int(m.group(1)), int(m.group(2)))
            if got == (rows, cols):
                return
            check(time.monotonic() < end, "%s: stty size %s, want %s", what, got, (rows, cols))

    def both(what, rows, cols):
        answers(tty, what)
        size_is(tty, rows, cols, what)
        answers(ex, what + " (exec)")
        size_is(ex, rows + 1, cols + 1, what + " (exec)")

    answers(tty, "before")
    ex = TtyDriver(h.ctr_argv("default", "tasks", "exec", "-t", "--exec-id", cid + "-e", cid, "sh"),
                   24, 80)
    t.closers.append(ex.close)
    both("before", 30, 90)
    if warren:
        front, core = warrend(t)
        check(front and core, "warrend front %s, core %s", front, core)
        masters = [f for f in fds_of(front) if f.endswith("ptmx")]
        check(len(masters) == 2, "the front holds pty masters %s, want 2", masters)
        os.kill(core, signal.SIGKILL)
        core = new_core(t, front, core)
    both("after kill -9 of the core", 33, 101)
    if warren:
        os.kill(front, signal.SIGHUP)
        core = new_core(t, front, core)
    both("after a SIGHUP restart", 40, 120)
    # typed while no core runs: kept in the FIFO, answered by the next core
    if warren:
        os.kill(core, signal.SIGSTOP)
        tty.type("echo typed-$((6*7))\r")
        time.sleep(0.5)
        os.kill(core, signal.SIGKILL)
        core = new_core(t, front, core)
        tty.expect(r"\r*\ntyped-42\r*\n", what="typed while the core was stopped")
    ex.type("exit 4\r")
    rc = ex.p.wait(timeout=30)
    check(rc == 4, "ctr tasks exec -t exited %d, want 4; output %r", rc, ex.out[-400:])
    # the shell exits while the core is stopped, then killed: the front reaps
    # it and the next core drains the terminal and reports the exit
    tty.type("sleep 1; exit 3\r")
    tty.expect(re.escape("sleep 1; exit 3"), what="exit: echo")
    if warren:
        os.kill(core, signal.SIGSTOP)
        time.sleep(2)
        os.kill(core, signal.SIGKILL)
        core = new_core(t, front, core)
    rc = tty.p.wait(timeout=30)
    check(rc == 3, "ctr run -t exited %d, want 3; output %r", rc, tty.out[-400:])
    check(cid not in h.ctr("containers", "ls", "-q").stdout.split(), "--rm left %s", cid)
    if warren:
        check(Events.wait(lambda: not any(f.endswith("ptmx") or cid in f for f in fds_of(front)), 10),
              "the front still holds fds of the terminals: %s", fds_of(front))
        check(warrend(t) == (front, core), "warrend changed: %s, want %s", warrend(t), (front, core))

def pid1_of(nslink):
    """Host pid of pid 1 of the pid namespace nslink ("pid:[N]"), or None."""
    for pid in harness.proc_table():
        if harness.pidns(pid) != nslink:
            continue
        m = re.search(r"^NSpid:\s+(.*)$", read_file("/proc/%d/status" % pid), re.M)
        if m and m.group(1).split()[-1] == "1":
            return pid
    return None


def rollup_kb(pid, field):
    m = re.search(r"^%s:\s+(\d+) kB" % field, read_file("/proc/%d/smaps_rollup" % pid), re.M)
    return int(m.group(1)) if m else None


@case("shared_pid")
def shared_pid(t):
    """A pod whose containers share one PID namespace (namespace_options.pid
    POD, Kubernetes' shareProcessNamespace): each container sees the other's
    processes; pid 1 is warren's holder, run from warren's own binaries (no
    pause image: it is removed first), whose memory is printed and which a
    restart of warrend's core leaves alone; under the runc handler, the
    pause container.  Killing that pid 1 ends every process of the pod, and
    the pod goes NotReady."""
    h, cri = t.h, t.cri
    warren = t.runtime != "runc"
    if warren:
        refs = image_refs(t, "k8s.io", PAUSE)
        check(refs, "%s not in namespace k8s.io", PAUSE)
        h.ctr("images", "rm", *refs, ns="k8s.io")
        t.closers.append(lambda: h.import_images(("k8s.io",), names=[PAUSE]))
    pod, cfg = t.run_pod("sharedpid", pid="POD")
    c1 = t.create(pod, cfg, "one", command=["sleep", "1234"], pid="POD")
    c2 = t.create(pod, cfg, "two", command=["sleep", "1000"], pid="POD")
    cri.start(c1)
    cri.start(c2)
    n1, n2 = ns_links(t, c1), ns_links(t, c2)
    check(n1["pid"] == n2["pid"], "pid namespace differs between containers: %s vs %s",
          n1["pid"], n2["pid"])
    check(n1["pid"] != os.readlink("/proc/self/ns/pid"), "pid namespace is the host's")
    ps = cri.out(c2, ["ps", "-o", "pid,args"])
    check(re.search(r"^\s*\d+\s+sleep 1234$", ps, re.M), "container two does not see one's "
          "sleep:\n%s", ps)
    cmd1 = cri.out(c2, ["cat", "/proc/1/cmdline"]).replace("\0", " ")
    holder = pid1_of(n1["pid"])
    check(holder, "no pid 1 in %s on the host", n1["pid"])
    if warren:
        check(os.path.basename(cmd1.split()[0]) == "warren-pidns-holder",
              "pid 1 in the pod is %r, not warren-pidns-holder", cmd1)
        check(harness.exe_name(holder) == "warren-pidns-holder", "host pid %d: %s", holder,
              harness.proc_desc(holder))
        parent = harness.proc_table()[holder][0]
        check(harness.exe_name(parent) == "warrend", "the holder's parent is not warrend's "
              "front: %s", harness.proc_desc(parent))
        rows = [line.split() for line in h.ctr("containers", "ls", ns="k8s.io").stdout.split("\n")[1:]
                if line.strip()]
        check(sorted(r[0] for r in rows) == sorted([c1, c2]), "k8s.io containers %s, want only "
              "the pod's two", [r[0][:12] for r in rows])
        pss, rss = rollup_kb(holder, "Pss"), rollup_kb(holder, "Rss")
        print("    holder pid %d: Pss %s KiB, Rss %s KiB" % (holder, pss, rss))
        if os.uname().machine == "x86_64":
            check(pss is not None and pss <= 64, "holder Pss %s KiB, documented as ~12", pss)
        # warrend's core killed: recovery finds the holder alive, the pod ready
        front, core = warrend(t)
        check(front and core, "warrend front/core not found")
        os.kill(core, signal.SIGKILL)
        new_core(t, front, core)
        check(cri.pod_state(pod) == "SANDBOX_READY", "pod after a core restart: %s",
              cri.pod_state(pod))
        check(harness.alive(holder) and pid1_of(n1["pid"]) == holder, "holder changed")
        check("sleep 1234" in cri.out(c2, ["ps", "-o", "args"]), "exec after a core restart")
    else:
        check("sleep 3600" in cmd1, "pid 1 in the pod is %r, not the pause container", cmd1)

    # The pod's pid 1 dies: the kernel ends its namespace, hence both
    # containers, and the pod is NotReady (warren: the holder's exit is the
    # sandbox's Exit; runc: the pause task's exit).
    os.kill(holder, signal.SIGKILL)
    for c in (c1, c2):
        check(cri.wait_state(c, "CONTAINER_EXITED") == "CONTAINER_EXITED",
              "container %s still %s after its pid namespace ended", c[:12], cri.state(c))
    check(Events.wait(lambda: cri.pod_state(pod) == "SANDBOX_NOTREADY", 20),
          "pod %s after its pid 1 died", cri.pod_state(pod))
    for c in (c1, c2):
        cri.remove(c)
    cri.stop_pod(pod)
    cri.remove_pod(pod)


@case("warrenctl")
def warrenctl(t):
    """warrenctl ps and inspect show warrend's own view of a running pod:
    the sandbox, its container and an exec, their lifecycle states, and the
    journal history; warrenctl stats shows the core's own timing counters
    (the container's Create counted, with runc's time inside it); a
    containerd with no warrend gets a clear error."""
    if t.runtime == "runc":
        raise Skip("warren only")
    cri = t.cri
    pod, cfg = t.run_pod("ctl")
    cid = t.create(pod, cfg, "c1", command=["sleep", "1000"])
    cri.start(cid)
    cri.out(cid, ["true"])
    def ctl(*args, check_rc=True):
        r = t.h.warrenctl(*args)
        if check_rc and r.returncode != 0:
            raise AssertionError("warrenctl %s: exit %d: %s" % (" ".join(args), r.returncode,
                                                                r.stderr))
        return r
    # an exec still running, shown under its container by its own id
    t.h.ctr("tasks", "exec", "--detach", "--exec-id", "ctl-exec", cid, "sleep", "60", ns="k8s.io")
    out = ctl("ps").stdout
    lines = {l.split()[0]: l.split() for l in out.splitlines()[1:] if l.strip()}
    check(pod[:32] in lines and lines[pod[:32]][1:4] == ["sandbox", "ns", "ready"],
          "ps lacks the ready sandbox:\n%s", out)
    check(cid[:30] in lines and lines[cid[:30]][1:4] == ["task", "ns", "running"],
          "ps lacks the running container under it:\n%s", out)
    check("ctl-exec" in lines and lines["ctl-exec"][1:4] == ["exec", "ns", "running"],
          "ps lacks the running exec under the container:\n%s", out)
    out = ctl("inspect", cid).stdout
    check("state:    running" in out and ("owner:    %s" % pod) in out, "inspect:\n%s", out)
    for step in (r"intent +absent +-> creating +Create runs create",
                 r"outcome +creating +-> created +Done",
                 r"intent +created +-> starting +Start runs start",
                 r"outcome +starting +-> running +Done"):
        check(re.search(step, out), "journal lacks %r:\n%s", step, out)
    out = ctl("stats").stdout
    st = harness.parse_warrenctl_stats(out)
    check(st, "stats: no wall time in:\n%s", out)
    keys, methods = st["keys"], st["methods"]
    create = methods.get("containerd.task.v3.Task/Create", {})
    check(create.get("calls", 0) >= 1 and create["runtime_ms"] > 0 and create["own_ms"] > 0,
          "stats: no Task.Create with runc's time inside it:\n%s", out)
    check(keys.get("runtime_wait_ms", 0) > 0 and keys.get("runtime_calls", 0) >= 2 and
          keys.get("own_ms", 0) > 0, "stats: no runtime wait or own time:\n%s", out)
    check(abs(keys["busy_ms"] + keys["idle_ms"] - keys["wall_ms"]) < 0.01 and
          abs(keys["busy_ms"] - keys["runtime_wait_ms"] - keys["own_ms"]) < 0.01 and
          keys["runtime_wait_ms"] < keys["busy_ms"] < keys["wall_ms"] and
          0 < keys.get("runtime_spawn_ms", 0) < keys["own_ms"],
          "stats: inconsistent totals:\n%s", out)
    # a pod start journals 8 commits and runs 4 actions (create and start
    # of the sandbox and of the task), runc inside the task's
    check(keys.get("journal_commits", 0) >= 8 and 0 < keys.get("journal_ms", 0) < keys["own_ms"] and
          keys.get("actions", 0) >= 4 and keys.get("action_ms", 0) > keys.get("runtime_spawn_ms", 0),
          "stats: no journal or action time:\n%s", out)
    r = ctl("inspect", "no-such-id", check_rc=False)
    check(r.returncode != 0 and "no such sandbox, task or exec" in r.stderr, "inspect unknown: %r",
          r.stderr)
    tool = os.path.join(os.path.dirname(t.h.shim), "warrenctl")
    r = subprocess.run([tool, "--containerd-address", "/nonexistent/containerd.sock", "ps"],
                       env=dict(os.environ, **t.h._daemon_env()), capture_output=True, text=True,
                       timeout=30)
    check(r.returncode != 0 and "warrend is not running" in r.stderr, "no warrend: %r", r.stderr)


@case("bad_input")
def bad_input(t):
    h, cri = t.h, t.cri
    # The shim's start with a broken warren.conf fails, printing no address.
    if t.runtime != "runc":
        conf = os.path.join(h.base, t.uniq("broken") + ".conf")
        with open(conf, "w") as f:
            f.write("[ns]\nno_such_setting = 1\n")
        t.closers.append(lambda: os.unlink(conf))
        r = subprocess.run([h.shim, "-namespace", "k8s.io", "-address", h.sock, "-id",
                            secrets.token_hex(32), "start"], capture_output=True, text=True,
                           timeout=30, env=dict(os.environ, **h._daemon_env(), WARREN_CONFIG=conf))
        check(r.returncode != 0 and not r.stdout and "no_such_setting" in r.stderr,
              "shim start with a broken config: exit %d, stdout %r, stderr %r", r.returncode,
              r.stdout, r.stderr)
    pod, cfg = t.run_pod("bad")

    # An image whose entrypoint does not exist: create works, start fails naming it.
    c = t.create(pod, cfg, "badentry", image=BADENTRY)
    expect_rpc_error(t, lambda: cri.start(c), contains="does-not-exist")
    check(cri.state(c) != "CONTAINER_RUNNING", "failed start left it RUNNING")
    cri.remove(c)

    # Unknown ids.
    nobody = secrets.token_hex(32)
    expect_rpc_error(t, lambda: cri.status(nobody), code="NOT_FOUND")
    expect_rpc_error(t, lambda: cri.start(nobody), code="NOT_FOUND")
    expect_rpc_error(t, lambda: cri.exec_sync(nobody, ["true"]), code="NOT_FOUND")
    expect_rpc_error(t, lambda: cri.pod_status(nobody), code="NOT_FOUND")

    # Starting a container that has already run.
    c2 = t.create(pod, cfg, "once", command=["sh", "-c", "exit 0"])
    cri.start(c2)
    check(cri.wait_state(c2, "CONTAINER_EXITED") == "CONTAINER_EXITED", "never exited")
    check(cri.status(c2).exit_code == 0, "exit code %d", cri.status(c2).exit_code)
    expect_rpc_error(t, lambda: cri.start(c2))
    check(cri.state(c2) == "CONTAINER_EXITED", "after 2nd start: %s", cri.state(c2))
    cri.remove(c2)
    cri.stop_pod(pod)
    cri.remove_pod(pod)

    # The same through the Task API: ctr run of the bad image fails, naming it.
    cid = t.ctr_id("badentry")
    r = h.ctr("run", "--rm", *t.ctr_args(cid), BADENTRY, cid, check=False, timeout=60)
    check(r.returncode != 0, "ctr run of a missing entrypoint succeeded")
    check("does-not-exist" in r.stdout + r.stderr, "ctr run error %r lacks the path", r.stderr)


@case("bad_runtime_input")
def bad_runtime_input(t):
    """Input that only runc itself refuses, through CRI: (a) a pod cgroup
    parent below a file (every cgroup hierarchy's cgroup.procs): RunPodSandbox
    (the runc handler's pause container) or the container's start (a warren
    pod has no process) fails with runc's reason, and the container is not
    left RUNNING; (b) a bind mount into /proc, which runc refuses to mount:
    StartContainer fails naming runc's reason, the container is not RUNNING,
    and the pod still serves another container and can be removed."""
    cri = t.cri
    # (a)
    bad_parent = "/cgroup.procs/warren-e2e-" + t.h.token
    name = t.uniq("badcgroup")
    err = refused_pod_error(t, name, cgroup_parent=bad_parent)
    for want in ("cgroup.procs/warren-e2e-" + t.h.token, "not a directory"):
        check(want in err, "the error does not carry runc's reason (%r): %s", want, err)
    check(not [p for p in cri.list_pods() if p.metadata.name == name], "pod %s is still listed", name)

    # (b)
    pod, cfg = t.run_pod("badmount")
    src = os.path.join(t.h.base, t.uniq("procsrc"))
    os.makedirs(src)
    t.closers.append(lambda: shutil.rmtree(src, ignore_errors=True))

    def into_proc(c, pb):
        c.mounts.append(pb.Mount(container_path="/proc/e2e-notreal", host_path=src))
    c = t.create(pod, cfg, "procmount", command=["sleep", "1000"], tweak=into_proc)
    e = expect_rpc_error(t, lambda: cri.start(c))
    for want in ("/proc/e2e-notreal", "cannot be mounted because it is inside /proc"):
        check(want in e.details(), "StartContainer's error does not carry runc's reason (%r): %s",
              want, e.details())
    st = cri.status(c)
    check(st.state != 1, "a start that failed left the container RUNNING")  # CONTAINER_RUNNING
    check(st.reason == "StartError" and "inside /proc" in st.message,
          "ContainerStatus after the failed start: reason %r message %r", st.reason, st.message)
    expect_rpc_error(t, lambda: cri.exec_sync(c, ["true"]))
    good = t.create(pod, cfg, "good", command=["sleep", "1000"])
    cri.start(good)
    check(cri.out(good, ["echo", "alive"]) == "alive", "exec in the pod after the failed start")
    check(cri.pod_state(pod) == "SANDBOX_READY", "pod after the failed start: %s", cri.pod_state(pod))
    cri.remove(c)
    expect_rpc_error(t, lambda: cri.status(c), code="NOT_FOUND")
    cri.stop(good, grace=0)
    cri.remove(good)
    cri.stop_pod(pod)
    cri.remove_pod(pod)
    expect_rpc_error(t, lambda: cri.pod_status(pod), code="NOT_FOUND")


# ---- warrend's front and core (DESIGN §1) -------------------------------------------
def warrend(t):
    """(front pid, core pid) of this containerd's warrend (harness)."""
    return t.h.warrend_pids()


def new_core(t, front, old, deadline_s=15):
    """Wait until the front (same pid) runs a core other than old; returns it."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        f, c = warrend(t)
        check(f == front, "front changed from %s to %s", front, f)
        if c and c != old:
            return c
        time.sleep(0.05)
    raise AssertionError("no new core after %d s (front %s, old core %s)" % (deadline_s, front, old))


def shim_disconnects(t, since, removed=()):
    """containerd log lines since offset `since` saying a shim died, but for
    sandboxes in `removed`: containerd logs the same when it closes the
    connection of a sandbox it removes (RemovePodSandbox, a failed
    RunPodSandbox's clean-up)."""
    text = read_file(t.h.log_path)[since:]
    return [line for line in text.split("\n") if "shim disconnected" in line
            and not any("id=%s " % i in line + " " for i in removed)]


def assert_pod_serves(t, pod, running, what, since=None, removed=()):
    """The pod and its running containers are as CRI should see them, exec
    works, and (since given) containerd has not seen its shim die."""
    cri = t.cri
    if since is not None:
        gone = shim_disconnects(t, since, removed)
        check(not gone, "%s: containerd saw a dead shim: %s", what, gone)
    check(cri.pod_state(pod) == "SANDBOX_READY", "%s: pod %s", what, cri.pod_state(pod))
    listed = {p.id: p.state for p in cri.list_pods()}
    check(listed.get(pod) == 0, "%s: pod listed as %s", what, listed.get(pod))  # SANDBOX_READY
    listed = {c.id: c.state for c in cri.list_containers(pod)}
    for cid in running:
        check(cri.state(cid) == "CONTAINER_RUNNING", "%s: container %s", what, cri.state(cid))
        check(listed.get(cid) == 1, "%s: container listed as %s", what, listed.get(cid))  # RUNNING
    code, out, err = cri.exec_sync(running[0], ["sh", "-c", "echo alive; exit 5"])
    check((code, out) == (5, b"alive\n"), "%s: exec: exit %d stdout %r stderr %r", what, code, out, err)


def resume_warrend(t):
    """SIGCONT this containerd's warrend (a failed case may leave its core stopped)."""
    for pid in warrend(t):
        if pid:
            os.kill(pid, signal.SIGCONT)


def in_thread(fn):
    """Run fn in a thread; returns (thread, box) where box gets "ok" or "error"."""
    box = {}

    def run():
        try:
            box["ok"] = fn()
        except Exception as e:  # noqa: BLE001
            box["error"] = e
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th, box


def core_case_setup(t, name):
    """For the cases about warrend's core: a pod with a sleeping container,
    and the front and core pids.  Returns (containerd log offset, pod id,
    pod config, container id, front pid, core pid)."""
    if t.runtime == "runc":
        raise Skip("warrend's core only")
    since = len(read_file(t.h.log_path))
    pod, cfg = t.run_pod(name)
    c1 = t.create(pod, cfg, "sleeper", command=["sleep", "1000"])
    t.cri.start(c1)
    front, core = warrend(t)
    check(front and core, "warrend front %s, core %s", front, core)
    return since, pod, cfg, c1, front, core


@case("core_kill")
def core_kill(t):
    cri = t.cri
    since, pod, cfg, c1, front, core = core_case_setup(t, "corekill")
    t.closers.append(lambda: resume_warrend(t))

    # 1: plain kill -9 of the core.
    os.kill(core, signal.SIGKILL)
    core = new_core(t, front, core)
    assert_pod_serves(t, pod, [c1], "after kill 1", since)

    # 2: kill -9 while a RunPodSandbox and a StartContainer are in flight:
    # the core is stopped first, so both calls surely wait inside it.
    c2 = t.create(pod, cfg, "late", command=["sleep", "1000"])
    os.kill(core, signal.SIGSTOP)
    t_pod, pod_box = in_thread(lambda: t.run_pod("inflight", timeout=90))
    t_ctr, ctr_box = in_thread(lambda: cri.start(c2, timeout=90))
    time.sleep(1.5)
    os.kill(core, signal.SIGKILL)
    core = new_core(t, front, core)
    for th, name in ((t_pod, "RunPodSandbox"), (t_ctr, "StartContainer")):
        th.join(60)
        check(not th.is_alive(), "%s in flight during the kill never returned", name)
    removed = []
    for box, name in ((pod_box, "RunPodSandbox"), (ctr_box, "StartContainer")):
        e = box.get("error")
        if e is not None:
            # Unavailable from the front ("warren core restarting"), passed on
            # by containerd: allowed; containerd then removes what it began.
            check(isinstance(e, cri.grpc.RpcError), "%s: %r", name, e)
            print("    note: %s in flight failed: %s" % (name, e.details()[-120:]))
            removed += re.findall(r'sandbox "([0-9a-f]{64})"', e.details())[:1]
    pods = [p.id for p in cri.list_pods()]
    if "ok" in pod_box:
        check(cri.pod_state(pod_box["ok"][0]) == "SANDBOX_READY", "in-flight pod not ready")
    else:
        check(pods == [pod], "pods %s after a failed RunPodSandbox, want only %s", pods, pod)
    want = [c1] + ([c2] if "ok" in ctr_box else [])
    assert_pod_serves(t, pod, want, "after kill 2", since, removed)

    # 3: a container exits while the core is down (stopped, then killed):
    # the front reaped it, and the next core journals its real status.
    c3 = t.create(pod, cfg, "exit42", command=["sh", "-c", "sleep 2; exit 42"])
    cri.start(c3)
    os.kill(core, signal.SIGSTOP)
    time.sleep(3)
    os.kill(core, signal.SIGKILL)
    core = new_core(t, front, core)
    check(cri.wait_state(c3, "CONTAINER_EXITED") == "CONTAINER_EXITED", "exit42: %s", cri.state(c3))
    check(cri.status(c3).exit_code == 42, "exit code %d, want 42", cri.status(c3).exit_code)
    assert_pod_serves(t, pod, want, "after kill 3", since, removed)

    check(warrend(t) == (front, core), "warrend changed: %s, want %s", warrend(t), (front, core))
    # Everything is still manageable.
    cri.stop(c1, grace=0)
    check(cri.status(c1).exit_code == 137, "c1 exit code %d after SIGKILL", cri.status(c1).exit_code)
    for cid in [c1, c2, c3]:
        cri.stop(cid, grace=0)
        cri.remove(cid)
    cri.stop_pod(pod)
    check(cri.pod_state(pod) == "SANDBOX_NOTREADY", "after stop: %s", cri.pod_state(pod))
    cri.remove_pod(pod)


@case("front_kill")
def front_kill(t):
    """warrend's front itself is SIGKILLed (the process that must never die,
    DESIGN §1): containerd sees its shim connection close, runs `delete` for
    the sandbox and forgets it, and CRI reports the container exited.  The
    container's process must not outlive that: `delete` starts warrend
    again, whose recovery and collector stop and remove what containerd
    forgot, so after the kubelet-like cleanup nothing is left (processes,
    mounts, namespace files, cgroups), and the next pod runs."""
    cri = t.cri
    since, pod, cfg, c1, front, core = core_case_setup(t, "frontkill")
    # the shim asks "is warrend up?" by its front's lock, not by connecting
    ready = glob.glob(os.path.join(t.h.warren_state, "*", "warrend.ready"))
    check(len(ready) == 1 and flock_holders(ready[0]) == {front},
          "ready lock of %s held by %s, not the front %d", ready,
          ready and flock_holders(ready[0]), front)
    os.kill(front, signal.SIGKILL)
    check(Events.wait(lambda: not harness.alive(front), 5), "front %d still alive", front)
    check(front not in flock_holders(ready[0]), "the dead front still holds the ready lock")
    check(Events.wait(lambda: cri.state(c1) == "CONTAINER_EXITED", 20),
          "containerd still sees the container %s", cri.state(c1))
    check(cri.pod_state(pod) == "SANDBOX_NOTREADY", "pod %s", cri.pod_state(pod))
    cri.stop(c1, grace=0)
    cri.remove(c1)
    cri.stop_pod(pod)
    cri.remove_pod(pod)
    # the restarted warrend's collector runs every 10 s
    t.h.assert_no_leaks(deadline_s=40)
    f2, c2 = warrend(t)
    check(f2 and f2 != front, "no new warrend after the front died: %s", (f2, c2))
    pod2, cfg2 = t.run_pod("afterkill")
    cid = t.create(pod2, cfg2, "c", command=["sleep", "1000"])
    cri.start(cid)
    check(cri.out(cid, ["echo", "alive"]) == "alive", "exec in a pod after the front died")
    cri.stop(cid, grace=0)
    cri.remove(cid)
    cri.stop_pod(pod2)
    cri.remove_pod(pod2)


@case("reply_cache")
def reply_cache(t):
    """warrend's front answers a repeated read-only call itself while the
    object it describes is unchanged (issue #5, src/relay/reply_cache.h):
    PodSandboxStatus is answered with the core stopped.  The cache never
    hides a change: a verbose status (the backend's live record) still asks
    the core, a stopped pod reads NOTREADY at once, and a core killed and
    restarted starts with an empty cache."""
    cri = t.cri
    since, pod, cfg, c1, front, core = core_case_setup(t, "replycache")
    t.closers.append(lambda: resume_warrend(t))

    def stopped_core(fn):
        os.kill(core, signal.SIGSTOP)
        try:
            return fn()
        finally:
            os.kill(core, signal.SIGCONT)

    check(cri.pod_state(pod) == "SANDBOX_READY", "pod %s", cri.pod_state(pod))
    states = stopped_core(lambda: [cri.pod_state(pod) for _ in range(3)])
    check(states == ["SANDBOX_READY"] * 3, "with the core stopped: %s", states)
    stopped_core(lambda: expect_rpc_error(
        t, lambda: cri.pod_status(pod, verbose=True, timeout=2), code="DEADLINE_EXCEEDED"))

    # a restarted core: the cache starts empty, so a stopped new core answers nothing
    os.kill(core, signal.SIGKILL)
    core = new_core(t, front, core)
    stopped_core(lambda: expect_rpc_error(
        t, lambda: cri.pod_status(pod, timeout=2), code="DEADLINE_EXCEEDED"))
    check(cri.pod_state(pod) == "SANDBOX_READY", "after the restart: %s", cri.pod_state(pod))
    check(stopped_core(lambda: cri.pod_state(pod)) == "SANDBOX_READY", "cached again")

    # a change is seen at once
    cri.stop(c1, grace=0)
    cri.stop_pod(pod)
    check(cri.pod_state(pod) == "SANDBOX_NOTREADY", "after stop: %s", cri.pod_state(pod))
    cri.remove(c1)
    cri.remove_pod(pod)
    expect_rpc_error(t, lambda: cri.pod_status(pod), code="NOT_FOUND")


def flock_holders(path):
    """The pids holding a flock on path's inode (/proc/locks)."""
    st = os.stat(path)
    holders = set()
    with open("/proc/locks") as f:
        for line in f:
            p = line.split()
            if len(p) >= 6 and p[1] == "FLOCK" and p[5].rsplit(":", 1)[-1] == str(st.st_ino):
                holders.add(int(p[4]))
    return holders


@case("upgrade")
def upgrade(t):
    cri = t.cri
    since, pod, cfg, c1, front, core = core_case_setup(t, "upgrade")
    # Install "new" binaries the way a package does (a new file renamed over
    # the old; here an identical copy), then SIGHUP the front.
    exe = os.readlink("/proc/%d/exe" % front).replace(" (deleted)", "")
    tmp = "%s.e2e-%s" % (exe, t.h.token)
    try:
        shutil.copy2(exe, tmp)
        os.rename(tmp, exe)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    os.kill(front, signal.SIGHUP)
    core2 = new_core(t, front, core)
    check(not harness.alive(core), "old core %d still alive", core)
    check(os.stat("/proc/%d/exe" % core2).st_ino == os.stat(exe).st_ino,
          "the new core does not run the installed binary %s" % exe)
    check(os.readlink("/proc/%d/exe" % front).endswith(" (deleted)"), "front binary was not replaced")
    assert_pod_serves(t, pod, [c1], "after upgrade", since)
    # A new container and exec after the upgrade, then the whole teardown.
    c2 = t.create(pod, cfg, "after", command=["sh", "-c", "exit 3"])
    cri.start(c2)
    check(cri.wait_state(c2, "CONTAINER_EXITED") == "CONTAINER_EXITED", "c2: %s", cri.state(c2))
    check(cri.status(c2).exit_code == 3, "c2 exit code %d", cri.status(c2).exit_code)
    # (removing a pod closes its connection: containerd logs that as a disconnect too)
    check(not shim_disconnects(t, since), "containerd saw a dead shim: %s", shim_disconnects(t, since))
    cri.stop(c1, grace=0)
    check(cri.status(c1).exit_code == 137, "c1 exit code %d after SIGKILL", cri.status(c1).exit_code)
    for cid in (c1, c2):
        cri.remove(cid)
    cri.stop_pod(pod)
    check(cri.pod_state(pod) == "SANDBOX_NOTREADY", "after stop: %s", cri.pod_state(pod))
    cri.remove_pod(pod)


# ---- runner ---------------------------------------------------------------------------
class QuietStdout:
    """stdout that stops writing, instead of raising, once the reader is gone
    (`run.py | head`): the teardown must still run."""

    def __init__(self, f):
        self.f, self.dead = f, False

    def write(self, s):
        if not self.dead:
            try:
                self.f.write(s)
            except (BrokenPipeError, OSError):
                self.dead = True
        return len(s)

    def flush(self):
        if not self.dead:
            try:
                self.f.flush()
            except (BrokenPipeError, OSError):
                self.dead = True


def on_signal(signum, _frame):
    raise KeyboardInterrupt("signal %d" % signum)


class Results:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.failures = []

    def fail(self, name):
        self.failed += 1
        self.failures.append(name)


def run_case(h, runtime, name, fn, res):
    print("=== %s" % name)
    sys.stdout.flush()
    t0 = time.monotonic()
    t = Ctx(h, runtime)
    err = skip = None
    try:
        fn(t)
    except Skip as e:
        skip = str(e)
    except AssertionError as e:
        err = "    %s%s" % (e, where(e))
    except h.cri.grpc.RpcError as e:
        err = "    gRPC %s: %s%s" % (e.code().name, e.details(), where(e))
    except Exception:  # noqa: BLE001
        err = traceback.format_exc().rstrip()
    cerrs = t.cleanup()
    try:
        h.assert_no_leaks()
    except AssertionError as e:
        err = (err + "\n" if err else "") + "    leak check: %s" % e
        h.reset()  # so later cases start clean
    if err and cerrs:
        err += "\n    cleanup: " + "; ".join(cerrs)
    dt = time.monotonic() - t0
    if err:
        res.fail(name)
        print(err)
        for what, text in [("containerd", h.log_tail(15))] + h.warren_log_tails(15):
            print("    %s log tail:\n%s" % (what, "".join(
                "      " + line + "\n" for line in text.rstrip("\n").split("\n"))))
        print("--- FAILED: %s (%.1f s)" % (name, dt))
    elif skip is not None:
        res.skipped += 1
        print("--- skipped: %s (%s)" % (name, skip))
    else:
        res.passed += 1
        print("--- ok: %s (%.1f s)" % (name, dt))
    sys.stdout.flush()


def teardown(h, res):
    print("=== teardown")
    t0 = time.monotonic()
    problems = h.stop()
    problems += h.final_leaks()
    problems += sanitizer_reports()
    if problems:
        res.fail("teardown")
        print("    " + "\n    ".join(problems))
        print("--- FAILED: teardown (%.1f s)" % (time.monotonic() - t0))
    else:
        res.passed += 1
        print("--- ok: teardown (%.1f s)" % (time.monotonic() - t0))


def main():
    sys.stdout = QuietStdout(sys.stdout)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    ap = argparse.ArgumentParser(description="warren end-to-end tests against a private containerd")
    ap.add_argument("--runtime", choices=sorted(RUNTIME_TYPES), default="warren-ns")
    ap.add_argument("-k", action="append", default=[], metavar="SUBSTR")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    cases = [(n, f) for n, f in CASES if not a.k or any(k in n for k in a.k)]
    if a.list:
        for n, _ in cases:
            print(n)
        return 0
    if os.geteuid() != 0:
        print("e2e: must run as root")
        return 1
    if not cases:
        print("e2e: no case matches %s" % a.k)
        return 1
    res = Results()
    t_start = time.monotonic()
    print("e2e: runtime %s (%s)" % (a.runtime, RUNTIME_TYPES[a.runtime]))
    for base in harness.reclaim_stale():
        print("e2e: reclaimed leftovers of an earlier run: %s" % base)
    h = harness.Containerd(verbose=a.verbose)
    if a.runtime == "warren-ns" and not os.access(h.shim, os.X_OK):
        print("e2e: warning: warren shim %s is missing (set WARREN_SHIM)" % h.shim)
    try:
        h.start()
    except Exception as e:  # noqa: BLE001  (start() has cleaned up)
        print("e2e: could not start containerd: %s" % e)
        for n, _ in cases:
            print("=== %s\n--- FAILED: %s (no containerd)" % (n, n))
        print("0 passed, %d failed" % len(cases))
        return 1
    try:
        for name, fn in cases:
            run_case(h, a.runtime, name, fn, res)
    except KeyboardInterrupt as e:
        print("e2e: interrupted (%s)" % (e or "SIGINT"))
        res.fail("interrupted")
    finally:
        teardown(h, res)
    print()
    for f in res.failures:
        print("failed: %s" % f)
    print("e2e: %s, %.1f s" % (a.runtime, time.monotonic() - t_start))
    print("%d passed, %d failed, %d skipped" % (res.passed, res.failed, res.skipped))
    return 1 if res.failed else 0


def where(exc):
    """ " (run.py:LINE in CASE)" for the innermost frame of this file."""
    me = os.path.abspath(__file__)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename) == me]
    cases = {fn.__name__ for _, fn in CASES}
    frames = [f for f in frames if f.name in cases] or frames
    return " (run.py:%d in %s)" % (frames[-1].lineno, frames[-1].name) if frames else ""


def sanitizer_reports():
    """ASan/UBSan/LSan reports in the saved daemon logs (build/e2e/logs):
    with a sanitizer build of warren (WARREN_SHIM=build/asan/bin/...) any
    report fails the run."""
    out = []
    pat = re.compile(r"ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:")
    d = os.path.join(harness.BUILD, "logs")
    for n in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if n == "containerd.log":
            continue
        for line in read_file(os.path.join(d, n)).split("\n"):
            if pat.search(line):
                out.append("sanitizer report in %s: %s" % (os.path.join(d, n), line.strip()[:200]))
                break
    return out


if __name__ == "__main__":
    sys.exit(main())
