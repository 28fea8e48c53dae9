# bench_env.py — what tests/bench/bench_pods.py needs around the e2e
# harness (tests/e2e/harness.py, used as is): a Containerd whose warren
# binaries are a private copy (so a concurrent `make` cannot swap them
# mid-run), a `runc` on containerd's PATH that can be switched between the
# real runc and a timing wrapper (runc_timer.c), pods started and torn down
# through the one CRI client, the pods' host processes with their Pss, and
# warrend's own timing counters (`warrenctl stats`).
import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
E2E = os.path.join(REPO, "tests", "e2e")
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
# Own build dir for CRI stubs, test images and saved daemon logs: an e2e run
# next to the bench keeps its build/e2e/logs.
os.environ.setdefault("WARREN_E2E_BUILD", os.path.join(REPO, "build", "bench"))
if E2E not in sys.path:
    sys.path.insert(0, E2E)
import harness  # noqa: E402
from harness import BUSYBOX  # noqa: E402

HANDLERS = ("runc", "warren-ns")
WORKLOAD = ["sleep", "3600"]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Bench:
    """One private containerd with both handlers (harness.Containerd) and
    the bench's additions."""

    def __init__(self, shim=None):
        shim = os.path.abspath(shim or os.environ.get("WARREN_SHIM") or os.path.join(
            REPO, "build", "bin", "containerd-shim-warren-v2"))
        daemon = os.path.join(os.path.dirname(shim), "warrend")
        for p in (shim, daemon):
            if not os.access(p, os.X_OK):
                raise harness.HarnessError("%s missing: run `make` first" % p)
        # no portmap in the conflist: pod times stay comparable with earlier runs
        # The node's /run layout: containerd's state, runc's root and
        # warren's state dir on a tmpfs (on these machines /run is a plain
        # directory of the root ext4); BENCH_RUN_ON_DISK=1 keeps them on
        # disk, as the bench did before 2026-11-23's second run.
        self.run_tmpfs = os.environ.get("BENCH_RUN_ON_DISK") != "1"
        self.h = harness.Containerd(shim=shim, portmap=False, run_tmpfs=self.run_tmpfs)
        self.src_shim, self.src_daemon = shim, daemon
        # The shim starts the warrend next to itself: copy both (and
        # warrenctl, which reads that warrend's counters).
        self.priv_bin = os.path.join(self.h.base, "bench-bin")
        os.makedirs(self.priv_bin)
        for p in (shim, daemon):
            shutil.copy2(p, os.path.join(self.priv_bin, os.path.basename(p)))
        ctl = os.path.join(os.path.dirname(shim), "warrenctl")
        self.warrenctl = None
        if os.access(ctl, os.X_OK):
            self.warrenctl = os.path.join(self.priv_bin, "warrenctl")
            shutil.copy2(ctl, self.warrenctl)
        self.h.shim = os.path.join(self.priv_bin, os.path.basename(shim))
        self.binaries = {os.path.basename(p): sha256(p) for p in (shim, daemon)}
        self.real_runc = None
        self.timer = None
        self.timer_log = os.path.join(self.h.base, "runc-times.log")
        self.seq = 0
        self.lock = threading.Lock()
        self.started = {hd: 0 for hd in HANDLERS}  # pods that got a sandbox, ever

    # ---- setup ------------------------------------------------------------------
    def start(self):
        h = self.h
        h.start()
        path = h._daemon_env()["PATH"].split(":", 1)[1]
        self.real_runc = shutil.which("runc", path=path)
        if not self.real_runc:
            raise harness.HarnessError("runc not found on %s" % path)
        # Resolved the same way before and after: bin/runc -> the real one.
        os.symlink(self.real_runc, os.path.join(h.bin_dir, "runc"))
        src = os.path.join(HERE, "runc_timer.c")
        out = os.path.join(self.priv_bin, "runc-timer")
        cc = shutil.which("cc") or shutil.which("gcc")
        if cc:
            r = subprocess.run([cc, "-O2", "-Wall", '-DREAL_RUNC="%s"' % self.real_runc,
                                '-DTIMER_LOG="%s"' % self.timer_log, "-o", out, src],
                               capture_output=True, text=True)
            if r.returncode == 0:
                self.timer = out
            else:
                harness.log("runc timer not built: %s" % r.stderr.strip()[:300])

    def use_runc_timer(self, on):
        """Point bin/runc at the timing wrapper (on) or the real runc."""
        link = os.path.join(self.h.bin_dir, "runc")
        tmp = link + ".new"
        os.symlink(self.timer if on else self.real_runc, tmp)
        os.replace(tmp, link)

    def runc_times(self):
        """[(start s, end s, parent pid, parent comm, status, args)] from the
        timer log."""
        out = []
        try:
            with open(self.timer_log) as f:
                for line in f:
                    p = line.rstrip("\n").split(" ", 5)
                    if len(p) >= 5:
                        out.append((int(p[0]) / 1e9, int(p[1]) / 1e9, int(p[2]), p[3], int(p[4]),
                                    p[5] if len(p) > 5 else ""))
        except OSError:
            pass
        return out

    # ---- pods ---------------------------------------------------------------------
    def name(self, handler, tag):
        with self.lock:
            self.seq += 1
            return "b%d-%s-%s-%s" % (self.seq, tag, "w" if handler == "warren-ns" else "r", self.h.token)

    def start_pod(self, handler, tag):
        """RunPodSandbox + CreateContainer + StartContainer (busybox sleep
        3600); returns a dict with the ids and timings (s)."""
        cri, h = self.h.cri, self.h
        name = self.name(handler, tag)
        pod = {"handler": handler, "name": name, "pod": None, "ctr": None, "error": None}
        w0 = time.time()
        t0 = time.perf_counter()
        try:
            pod["pod"], cfg = cri.run_pod(name, handler, namespace="bench",
                                          log_dir=h.pod_log_dir(name), cgroup_parent=h.cgroup_parent)
            with self.lock:
                self.started[handler] += 1
            t1 = time.perf_counter()
            pod["ctr"] = cri.create_container(pod["pod"], cfg, "sleeper", BUSYBOX, command=WORKLOAD)
            t2 = time.perf_counter()
            cri.start(pod["ctr"])
            t3 = time.perf_counter()
        except cri.grpc.RpcError as e:
            pod["error"] = "%s: %s" % (e.code().name, e.details())
            return pod
        pod.update(run=t1 - t0, create=t2 - t1, start=t3 - t2, total=t3 - t0,
                   wall0=w0, wall1=w0 + (t3 - t0))
        return pod

    def teardown_pod(self, pod):
        """StopContainer(0) + RemoveContainer + StopPodSandbox +
        RemovePodSandbox; returns the seconds it took (errors in pod)."""
        cri = self.h.cri
        t0 = time.perf_counter()
        calls = []
        if pod.get("ctr"):
            calls += [lambda: cri.stop(pod["ctr"], 0), lambda: cri.remove(pod["ctr"])]
        if pod.get("pod"):
            calls += [lambda: cri.stop_pod(pod["pod"]), lambda: cri.remove_pod(pod["pod"])]
        for c in calls:
            try:
                c()
            except cri.grpc.RpcError as e:
                if e.code().name != "NOT_FOUND":
                    pod["error"] = (pod.get("error") or "") + " teardown %s: %s" % (e.code().name, e.details())
        return time.perf_counter() - t0

    def start_pods(self, handler, n, tag, threads=1):
        """n pods; threads > 1: that many workers.  Returns the pods (in
        completion order) and the batch's wall time."""
        pods, lock = [], threading.Lock()
        left = [n]

        def worker():
            while True:
                with lock:
                    if left[0] <= 0:
                        return
                    left[0] -= 1
                p = self.start_pod(handler, tag)
                with lock:
                    pods.append(p)
        t0 = time.perf_counter()
        ths = [threading.Thread(target=worker) for _ in range(max(1, min(threads, n)))]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        return pods, time.perf_counter() - t0

    def start_concurrent(self, handler, n, tag):
        """n threads, each starting one pod, released together: returns the
        pods and the wall time from the release to the last completion."""
        pods = [None] * n
        barrier = threading.Barrier(n + 1)
        done = [0.0] * n
        self.last_done = done

        def one(i):
            barrier.wait()
            pods[i] = self.start_pod(handler, tag)
            done[i] = time.perf_counter()
        ths = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in ths:
            t.start()
        time.sleep(0.2)
        t0 = time.perf_counter()
        barrier.wait()
        for t in ths:
            t.join()
        self.last_release = t0
        return pods, max(done) - t0

    def teardown_pods(self, pods):
        """Sequentially; returns the total seconds."""
        t0 = time.perf_counter()
        for p in pods:
            self.teardown_pod(p)
        return time.perf_counter() - t0

    def wait_clean(self, deadline_s=30):
        """Wait until the leak checker finds nothing (a resident warrend is
        allowed); returns what is left."""
        return harness.wait_until(self.h.leaks, deadline_s, interval=0.25)

    def warrend_stats(self):
        """warrend core's own counters (`warrenctl stats`, src/core/stats.h):
        {"keys": {name: value}, "methods": {"service/method": {calls,
        total_ms, runtime_ms, idle_ms, own_ms}}}, or None (no warrenctl, no
        warrend, or it failed)."""
        if not self.warrenctl:
            return None
        try:
            r = self.h.warrenctl("stats")
        except (OSError, subprocess.TimeoutExpired):
            return None
        if r.returncode != 0:
            harness.log("warrenctl stats: %s" % r.stderr.strip()[:300])
            return None
        return harness.parse_warrenctl_stats(r.stdout)

    # ---- processes --------------------------------------------------------------
    def warrend_pids(self):
        """(front, core) of this containerd's warrend (None where absent)."""
        return self.h.warrend_pids()

    def classify(self, pods):
        """The host processes that exist because of pods: {pid: kind} with
        kind shim (containerd-shim-*), pause (a process of a runc pod's
        sandbox container), warrend, workload (in a pod container's
        cgroup: not management), other.  containerd itself is left out."""
        table = harness.proc_table()
        ctrs = {p["ctr"] for p in pods if p.get("ctr")}
        sandboxes = {p["pod"] for p in pods if p.get("pod")}
        out = {}
        for pid in self.h.daemon_procs():
            if pid == self.h.pid or pid not in table:
                continue
            exe = harness.exe_name(pid)
            cg = read("/proc/%d/cgroup" % pid)
            leaf = cg.strip().rsplit("/", 1)[-1] if cg else ""
            if exe == "warrend":
                kind = "warrend"
            elif exe.startswith("containerd-shim"):
                kind = "shim"
            elif leaf in ctrs:
                kind = "workload"
            elif leaf in sandboxes:
                kind = "pause"
            else:
                kind = "other"
            out[pid] = kind
        return out


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def pss_kib(pid):
    """Pss (KiB) from /proc/<pid>/smaps_rollup; None if gone."""
    for line in read("/proc/%d/smaps_rollup" % pid).split("\n"):
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return None


def rss_kib(pid):
    return rollup(pid).get("Rss")


def rollup(pid):
    """{field: KiB} of /proc/<pid>/smaps_rollup (Rss, Pss, Pss_Anon, Pss_File, ...)."""
    out = {}
    for line in read("/proc/%d/smaps_rollup" % pid).split("\n")[1:]:
        f = line.split()
        if len(f) >= 2 and f[0].endswith(":") and f[1].isdigit():
            out[f[0][:-1]] = int(f[1])
    return out


def pss_by_mapping(pid):
    """{mapping: Pss KiB} from /proc/<pid>/smaps, mappings named by file
    basename, [heap], [stack], or [anon]."""
    out, name = {}, None
    for line in read("/proc/%d/smaps" % pid).split("\n"):
        f = line.split()
        if not f:
            continue
        if "-" in f[0] and not f[0].endswith(":"):
            name = os.path.basename(f[5]) if len(f) > 5 and f[5].startswith("/") else (
                f[5] if len(f) > 5 else "[anon]")
        elif f[0] == "Pss:" and name:
            out[name] = out.get(name, 0) + int(f[1])
    return out


def schedstat_ns(pid, field):
    """A schedstat time (ns) summed over every thread of pid; None if gone.
    field 0: on-CPU time; 1: runnable but waiting for a CPU (run delay)."""
    total, seen = 0, False
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    for t in tids:
        s = read("/proc/%d/task/%s/schedstat" % (pid, t)).split()
        if s:
            total += int(s[field])
            seen = True
    return total if seen else None
