#!/usr/bin/python3
# tools/quickstart.py — the operator's first five minutes with warren: a
# private containerd 2.1.9 with warren's runtime handler, one small pod, and
# what an operator would look at.  `make run` calls `up` after building.
#
# usage: tools/quickstart.py {up|status|down} [--base DIR] [--bin-dir DIR]
#
#   up      start (or reuse) a private containerd under --base (default
#           /var/lib/warren-quickstart), import the locally built busybox image,
#           run pod "quickstart" (namespace default, handler warren-ns) with
#           containers "hello" (prints a line, exits 0) and "sleeper" (keeps
#           running), show it (step 4 below) and leave it all running.  The
#           last line printed is the command that tears it down.
#   status  show it again: CRI pods and containers, hello's log, `warrenctl
#           ps`, and the host processes of the pod (warrend front and core, the
#           containers; checked: no shim and no pause process).
#   down    remove the pods and containers through CRI, SIGTERM containerd
#           (its pid from <base>/containerd.pid) and warrend (the front's pid
#           from <base>/warren/state/<key>/warrend.lock; it stops its core),
#           kill by pid what is left that belongs to this base, unmount
#           everything under it (deepest first), delete the bridge, the
#           cgroups (every hierarchy), this network's CNI results, and the
#           base dir.  Idempotent; fine when nothing runs.
#
# Everything lives under the base dir: containerd's root, state, temp,
# sockets, opt plugin path, config.toml, containerd.log and containerd.pid;
# warren's WARREN_STATE_DIR (<base>/warren/state) and WARREN_ROOT
# (<base>/warren/root); the CNI config, plugin links and host-local IPAM
# data; the pod logs (<base>/pods/).  NRI is disabled; netns files are under
# containerd's state dir; /run/containerd is not used.  Host-wide objects,
# named after the base (see names_for): the bridge (warrenqs0), the cgroup
# parent (/warren-quickstart) and the CNI network (warren-quickstart).  The
# one thing that cannot be moved: libcni caches each attachment's result in
# /var/lib/cni/results/<network>-<container id>-<ifname> (containerd has no
# setting for it); `down` removes this network's files there.
#
# containerd runs fully detached (own session, stdin /dev/null, output to
# containerd.log) so it outlives this command; its PATH starts with
# <base>/bin, which holds containerd-shim-warren-v2 and
# containerd-shim-warren-ns-v2 → <bin-dir>/containerd-shim-warren-v2 (the shim
# runs the warrend next to its real path).
#
# Re-running `up` is safe: a live, answering containerd of this base is
# reused, a ready pod "quickstart" is shown again (a missing container is
# added back), and the leftovers of a crashed run (pidfile naming a dead
# process) are cleaned up first, as `down` would.
#
# Needs root, `make deps && make`, /usr/bin/python3 with grpcio-tools (CRI
# stubs are generated into build/quickstart/cri by tests/e2e/cri.py), and the
# images from tools/build-test-images.sh (built into build/quickstart/images,
# a no-op when up to date).
import argparse
import ctypes
import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
PYTHON = "/usr/bin/python3"
DEFAULT_BASE = "/var/lib/warren-quickstart"
DEFAULT_BIN = os.path.join(REPO, "build", "bin")
BUILD = os.path.join(REPO, "build", "quickstart")
DEPS_ENV = "/var/cache/warren-deps/env.sh"
BUSYBOX = "warren.test/busybox:latest"
POD, POD_NS, HANDLER = "quickstart", "default", "warren-ns"
HELLO_CMD = ["sh", "-c", 'echo "hello from a warren pod on $(hostname)"']
SLEEPER_CMD = ["sleep", "2147483647"]
CNI_RESULTS = "/var/lib/cni/results"     # libcni's cache dir: not configurable
CNI_PLUGINS = ("bridge", "host-local", "loopback")
# containerd 2.1's plugins to switch off, and where CNI plugins live: the
# same as the e2e harness's private containerds (one list to keep in step
# with containerd).
from harness import CNI_PLUGIN_DIRS, DISABLED_PLUGINS  # noqa: E402
# Executables that may carry the base dir in their command line or cwd and
# are ours to kill (an operator's shell sitting in the base dir is not).
RUNTIME_EXES = ("containerd", "warrend", "runc", "ctr", "warrenctl")
CGROUP_ROOT = "/sys/fs/cgroup"
SUN_PATH_MAX = 107

_libc = ctypes.CDLL(None, use_errno=True)


class Fail(Exception):
    pass


def say(msg=""):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def ago(ns):
    if not ns:
        return "-"
    s = max(0, time.time() - ns / 1e9)
    if s < 120:
        return "%ds ago" % s
    if s < 7200:
        return "%dm ago" % (s // 60)
    return "%dh ago" % (s // 3600)


def table(headers, rows, indent="  "):
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(headers, *rows)]
    for r in [headers] + rows:
        say(indent + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


# ---- layout ---------------------------------------------------------------------
def names_for(base):
    """Host-wide names of a base: the defaults for the default base, a
    6-hex-digit suffix (from the path) for any other, so two bases never
    share a bridge, cgroup parent, network or subnet."""
    if base == DEFAULT_BASE:
        return {"bridge": "warrenqs0", "cgroup_parent": "/warren-quickstart",
                "network": "warren-quickstart", "subnet": "10.249.0.0/24"}
    h = hashlib.sha256(base.encode()).hexdigest()[:6]
    return {"bridge": "warrenqs" + h, "cgroup_parent": "/warren-quickstart-" + h,
            "network": "warrenqs-" + h, "subnet": "10.249.%d.0/24" % (1 + int(h[:2], 16) % 254)}


class Layout:
    def __init__(self, base, bin_dir):
        self.base = base
        self.bin_dir = bin_dir                     # where the shim, warrend, warrenctl are
        p = lambda *a: os.path.join(base, *a)
        self.marker = p("quickstart.json")
        self.sock = p("containerd.sock")
        self.ttrpc_sock = p("containerd.sock.ttrpc")
        self.config = p("config.toml")
        self.log = p("containerd.log")
        self.pidfile = p("containerd.pid")
        self.root, self.state, self.temp, self.opt = p("root"), p("state"), p("tmp"), p("opt")
        self.path_dir = p("bin")                   # the shim links, first on containerd's PATH
        self.cni_bin, self.cni_conf, self.cni_ipam = p("cni", "bin"), p("cni", "conf"), p("cni", "ipam")
        self.pod_logs = p("pods")
        self.warren_state = p("warren", "state")
        self.warren_root = p("warren", "root")
        self.names = names_for(base)
        try:
            with open(self.marker) as f:
                saved = json.load(f)
            self.names.update(saved.get("names", {}))
            self.bin_dir = bin_dir or saved.get("bin_dir")
        except (OSError, ValueError):
            pass
        self.bin_dir = self.bin_dir or DEFAULT_BIN

    def warren_env(self):
        return {"WARREN_STATE_DIR": self.warren_state, "WARREN_ROOT": self.warren_root}


def deps_env():
    """WARREN_* from /var/cache/warren-deps/env.sh (the environment wins)."""
    path = os.environ.get("WARREN_DEPS_ENV") or DEPS_ENV
    env = {}
    if os.path.isfile(path):
        r = subprocess.run(["bash", "-c", 'set -a; . "$1" >/dev/null; env -0', "-", path],
                           capture_output=True, env={"PATH": "/usr/bin:/bin"})
        for kv in r.stdout.split(b"\0"):
            k, _, v = kv.decode(errors="replace").partition("=")
            if k.startswith("WARREN_"):
                env[k] = v
    env.update({k: v for k, v in os.environ.items() if k.startswith("WARREN_")})
    for k in ("WARREN_CONTAINERD", "WARREN_CTR", "WARREN_GOCODE_SRC"):
        if not env.get(k):
            raise Fail("%s not set and %s missing: run `make deps`" % (k, path))
    for k in ("WARREN_CONTAINERD", "WARREN_CTR"):
        if not os.access(env[k], os.X_OK):
            raise Fail("%s=%s is not executable: run `make deps`" % (k, env[k]))
    return env


# ---- /proc ----------------------------------------------------------------------
def _readlink(p):
    try:
        return os.readlink(p)
    except OSError:
        return ""


def _read(p, mode="r"):
    try:
        with open(p, mode) as f:
            return f.read()
    except OSError:
        return b"" if "b" in mode else ""


class Proc:
    __slots__ = ("pid", "ppid", "comm", "state", "exe", "cmdline", "cwd", "root", "cgroups")

    @property
    def exe_name(self):
        return os.path.basename(self.exe.replace(" (deleted)", ""))

    def cmd(self, width=70):
        c = self.cmdline or "[%s]" % self.comm
        return c if len(c) <= width else c[:width - 1] + "…"


def processes():
    """{pid: Proc} of every live (non-zombie) process but this one."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        s = _read("/proc/%s/stat" % d)
        if not s:
            continue
        p = Proc()
        p.pid = int(d)
        p.comm = s[s.index("(") + 1:s.rindex(")")]
        rest = s[s.rindex(")") + 2:].split()
        p.state, p.ppid = rest[0], int(rest[1])
        if p.state in ("Z", "X"):
            continue
        p.exe = _readlink("/proc/%s/exe" % d)
        p.cmdline = _read("/proc/%s/cmdline" % d, "rb").replace(b"\0", b" ").decode(errors="replace").strip()
        p.cwd = _readlink("/proc/%s/cwd" % d)
        p.root = _readlink("/proc/%s/root" % d)
        p.cgroups = [line.split(":", 2)[2] for line in _read("/proc/%s/cgroup" % d).splitlines()
                     if line.count(":") >= 2]
        out[p.pid] = p
    return out


def alive(pid):
    s = _read("/proc/%d/stat" % pid)
    return bool(s) and s.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def my_ancestors():
    out, pid = set(), os.getpid()
    while pid > 1:
        out.add(pid)
        s = _read("/proc/%d/stat" % pid)
        if not s:
            break
        pid = int(s.rsplit(")", 1)[1].split()[1])
    return out


def under(path, base):
    return path == base or path.startswith(base + "/")


def containerd_pid(L):
    """The pid in the pidfile if it is alive and is containerd with our
    config (not a recycled pid); else None."""
    try:
        pid = int(_read(L.pidfile).strip())
    except ValueError:
        return None
    if not alive(pid):
        return None
    exe = os.path.basename(_readlink("/proc/%d/exe" % pid))
    cmd = _read("/proc/%d/cmdline" % pid, "rb").decode(errors="replace").split("\0")
    return pid if exe.startswith("containerd") and L.config in cmd else None


def warrend_fronts(L):
    """[(pid, lockfile)] of live warrend fronts of this base, from
    <WARREN_STATE_DIR>/<key>/warrend.lock."""
    out = []
    for lock in sorted(glob.glob(os.path.join(L.warren_state, "*", "warrend.lock"))):
        try:
            pid = int(_read(lock).strip())
        except ValueError:
            continue
        if alive(pid) and os.path.basename(_readlink("/proc/%d/exe" % pid)).startswith("warrend"):
            out.append((pid, lock))
    return out


def in_cgroup(p, parent):
    return any(under(c, parent) for c in p.cgroups)


def base_procs(L, table_=None):
    """Processes that belong to this base: containerd, warrend (fronts from
    the lock files, anything whose command line names our containerd),
    processes in our cgroup parent, or whose exe/root lies under the base,
    runtime executables whose cwd or command line mention it — and every
    descendant of those.  Never this process or its ancestors."""
    t = table_ if table_ is not None else processes()
    mine = my_ancestors()
    base = L.base
    seeds = set()
    cpid = containerd_pid(L)
    if cpid:
        seeds.add(cpid)
    seeds |= {pid for pid, _ in warrend_fronts(L)}
    for p in t.values():
        if (in_cgroup(p, L.names["cgroup_parent"]) or under(p.exe, base) or
                (under(p.root, base) and p.root != "/")):
            seeds.add(p.pid)
        elif (p.exe_name in RUNTIME_EXES or p.exe_name.startswith("containerd")) and (
                base + "/" in p.cmdline or under(p.cwd, base)):
            seeds.add(p.pid)
    kids = {}
    for p in t.values():
        kids.setdefault(p.ppid, []).append(p.pid)
    out, todo = set(), list(seeds)
    while todo:
        pid = todo.pop()
        if pid in out or pid in mine or pid not in t:
            continue
        out.add(pid)
        todo += kids.get(pid, [])
    return out


def kill_pids(pids_fn, grace=(5, 5)):
    """SIGTERM, then SIGKILL, what pids_fn() returns; returns what survives."""
    for sig, wait in ((signal.SIGTERM, grace[0]), (signal.SIGKILL, grace[1])):
        pids = pids_fn()
        if not pids:
            return []
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        end = time.monotonic() + wait
        while pids_fn() and time.monotonic() < end:
            time.sleep(0.05)
    return pids_fn()


def wait_gone(pid, secs):
    end = time.monotonic() + secs
    while alive(pid) and time.monotonic() < end:
        time.sleep(0.05)
    return not alive(pid)


# ---- mounts, cgroups, network -------------------------------------------------------
def mounts_under(base):
    pts = []
    for line in _read("/proc/self/mountinfo").splitlines():
        mp = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
        if mp.startswith(base + "/"):
            pts.append(mp)
    return sorted(set(pts), key=lambda p: (p.count("/"), len(p)), reverse=True)


def unmount_all(base):
    n = 0
    for _ in range(10):
        pts = mounts_under(base)
        if not pts:
            break
        for mp in pts:
            if _libc.umount2(mp.encode(), 0) == 0:
                n += 1
            elif ctypes.get_errno() != 22:   # EINVAL: not a mount (any more)
                if _libc.umount2(mp.encode(), 2) == 0:   # MNT_DETACH
                    n += 1
    return n, mounts_under(base)


def cgroup_tops():
    if os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.procs")):   # pure v2
        return [CGROUP_ROOT]
    tops = [os.path.join(CGROUP_ROOT, h) for h in sorted(os.listdir(CGROUP_ROOT))]
    return [t for t in tops if os.path.isdir(t) and not os.path.islink(t)]


def cgroup_dirs(parent):
    """Every existing <hierarchy><parent> dir and the dirs below it."""
    out = []
    for top in cgroup_tops():
        d = top + parent
        if os.path.isdir(d):
            for dirpath, _, _ in os.walk(d):
                out.append(dirpath)
    return out


def remove_cgroups(parent):
    dirs = cgroup_dirs(parent)
    for d in dirs:
        for pid in _read(os.path.join(d, "cgroup.procs")).split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
    left = []
    for d in sorted(dirs, key=len, reverse=True):
        for _ in range(50):
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)
        else:
            left.append(d)
    return len(dirs) - len(left), left


def link_exists(name):
    return os.path.exists("/sys/class/net/%s" % name)


def delete_bridge(name):
    if not link_exists(name):
        return False
    for port in os.listdir("/sys/class/net/%s/brif" % name) if os.path.isdir(
            "/sys/class/net/%s/brif" % name) else []:
        subprocess.run(["ip", "link", "del", port], capture_output=True)
    subprocess.run(["ip", "link", "del", name], capture_output=True)
    return True


def sandbox_ids(L, network):
    """Ids of the sandboxes this base ever had: its CNI results and the
    sandbox dirs of containerd and warrend under the base."""
    ids = set()
    pat = re.compile(re.escape(network) + r"-([0-9a-f]{64})-")
    for p in glob.glob(os.path.join(CNI_RESULTS, "*")):
        m = pat.match(os.path.basename(p))
        if m:
            ids.add(m.group(1))
    for d in ("root/io.containerd.grpc.v1.cri/sandboxes/*", "state/io.containerd.grpc.v1.cri/sandboxes/*",
              "warren/state/*/ns/sandboxes/*/*"):
        ids |= {os.path.basename(p) for p in glob.glob(os.path.join(L.base, d))}
    return {i for i in ids if re.fullmatch(r"[0-9a-f]{64}", i)}


def cni_results(L, ids=None):
    """libcni's cached results of our network, and of containerd's loopback
    network ("cni-loopback") for our sandboxes."""
    ids = sandbox_ids(L, L.names["network"]) if ids is None else ids
    out = []
    for p in glob.glob(os.path.join(CNI_RESULTS, "*")):
        n = os.path.basename(p)
        for net in (L.names["network"], "cni-loopback"):
            if n.startswith(net + "-") and n[len(net) + 1:len(net) + 65] in ids:
                out.append(p)
    return out


# ---- CRI ----------------------------------------------------------------------------
def connect_cri(L, env, wait_s=0.0):
    """A CRI client if containerd answers (within wait_s), else None."""
    from cri import CRI, ensure_stubs
    pb2, pb2_grpc = ensure_stubs(os.path.join(BUILD, "cri"), env["WARREN_GOCODE_SRC"])
    c = CRI(L.sock, pb2, pb2_grpc, timeout=20)
    end = time.monotonic() + wait_s
    while True:
        try:
            if os.path.exists(L.sock):
                c.version(timeout=2)
                return c
        except c.grpc.RpcError:
            pass
        if time.monotonic() >= end:
            c.close()
            return None
        time.sleep(0.05)


def pod_status(cri, pid_):
    try:
        return cri.pod_status(pid_, timeout=10)
    except cri.grpc.RpcError:
        return None


# ---- up -------------------------------------------------------------------------------
def write_config(L, env):
    for d in (L.root, L.state, L.temp, L.opt, L.path_dir, L.cni_bin, L.cni_conf, L.cni_ipam,
              L.pod_logs, L.warren_state, L.warren_root):
        os.makedirs(d, exist_ok=True)
    shim = os.path.join(L.bin_dir, "containerd-shim-warren-v2")
    for name in ("containerd-shim-warren-v2", "containerd-shim-warren-ns-v2"):
        link = os.path.join(L.path_dir, name)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(shim, link)
    for p in CNI_PLUGINS:
        link = os.path.join(L.cni_bin, p)
        if os.path.lexists(link):
            os.unlink(link)
        for d in CNI_PLUGIN_DIRS:
            if os.access(os.path.join(d, p), os.X_OK):
                os.symlink(os.path.join(d, p), link)
                break
        else:
            raise Fail("CNI plugin %s not found in %s (apt-get install containernetworking-plugins)"
                       % (p, " or ".join(CNI_PLUGIN_DIRS)))
    n = L.names
    conflist = {
        "cniVersion": "1.0.0", "name": n["network"],
        "plugins": [{"type": "bridge", "bridge": n["bridge"], "isGateway": False,
                     "ipMasq": False, "hairpinMode": False,
                     "ipam": {"type": "host-local", "dataDir": L.cni_ipam,
                              "ranges": [[{"subnet": n["subnet"]}]]}}],
    }
    with open(os.path.join(L.cni_conf, "10-warren-quickstart.conflist"), "w") as f:
        json.dump(conflist, f, indent=1)
    q = lambda s: "'%s'" % s
    rt = "plugins.'io.containerd.cri.v1.runtime'"
    cfg = [
        "# private containerd of tools/quickstart.py; everything under %s" % L.base,
        "version = 3",
        "root = %s" % q(L.root),
        "state = %s" % q(L.state),
        "temp = %s" % q(L.temp),
        "disabled_plugins = [%s]" % ", ".join(q(p) for p in DISABLED_PLUGINS),
        "",
        "[grpc]", "  address = %s" % q(L.sock),
        "[ttrpc]", "  address = %s" % q(L.ttrpc_sock),
        "",
        "[plugins.'io.containerd.internal.v1.opt']",
        "  path = %s" % q(L.opt),
        "[plugins.'io.containerd.cri.v1.images']",
        "  snapshotter = 'overlayfs'",
        "[plugins.'io.containerd.grpc.v1.cri']",
        "  stream_server_address = '127.0.0.1'",
        "  stream_server_port = '0'",
        "[%s]" % rt,
        "  restrict_oom_score_adj = true",
        "  netns_mounts_under_state_dir = true",
        "  enable_cdi = false",
        "  [%s.cni]" % rt,
        "    bin_dirs = [%s]" % q(L.cni_bin),
        "    conf_dir = %s" % q(L.cni_conf),
        "    max_conf_num = 1",
        "  [%s.containerd]" % rt,
        "    default_runtime_name = 'warren-ns'",
        "    [%s.containerd.runtimes.warren-ns]" % rt,
        "      runtime_type = 'io.containerd.warren-ns.v2'",
        "      sandboxer = 'shim'",
        "",
    ]
    with open(L.config, "w") as f:
        f.write("\n".join(cfg))


def start_containerd(L, env):
    path = L.path_dir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    denv = {"PATH": path, "HOME": "/root", "LANG": "C.UTF-8"}
    denv.update(L.warren_env())
    for k in ("WARREN_LOG_LEVEL", "WARREN_CONFIG", "WARREN_RUNTIME"):
        if os.environ.get(k):
            denv[k] = os.environ[k]
    logf = open(L.log, "ab")
    try:
        proc = subprocess.Popen([env["WARREN_CONTAINERD"], "--config", L.config],
                                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, cwd=L.base,
                                env=denv, start_new_session=True, close_fds=True)
    finally:
        logf.close()
    with open(L.pidfile + ".tmp", "w") as f:
        f.write("%d\n" % proc.pid)
    os.replace(L.pidfile + ".tmp", L.pidfile)
    end = time.monotonic() + 30
    while True:
        cri = connect_cri(L, env, wait_s=0.5)
        if cri:
            return proc.pid, cri
        if proc.poll() is not None:
            raise Fail("containerd exited (%s); last lines of %s:\n%s"
                       % (proc.returncode, L.log, log_tail(L.log)))
        if time.monotonic() > end:
            raise Fail("containerd's CRI did not answer in 30 s; see %s:\n%s" % (L.log, log_tail(L.log)))


def log_tail(path, n=15):
    return "".join(_read(path).splitlines(True)[-n:])


def import_image(L, env, cri):
    if any(BUSYBOX in img.repo_tags for img in cri.list_images(timeout=10)):
        return "already present"
    r = subprocess.run([os.path.join(REPO, "tools", "build-test-images.sh"),
                        os.path.join(BUILD, "images")], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise Fail("tools/build-test-images.sh failed:\n%s" % r.stderr.strip())
    images = dict(line.split() for line in r.stdout.splitlines() if line.strip())
    if BUSYBOX not in images:
        raise Fail("tools/build-test-images.sh did not build %s" % BUSYBOX)
    r = subprocess.run([env["WARREN_CTR"], "-a", L.sock, "--connect-timeout", "10s", "-n", "k8s.io",
                        "images", "import", images[BUSYBOX]], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        raise Fail("ctr images import failed:\n%s%s" % (r.stdout, r.stderr))
    return "imported"


def quickstart_pods(cri):
    return [p for p in cri.list_pods(timeout=10)
            if p.metadata.name == POD and p.metadata.namespace == POD_NS]


def remove_pod(cri, pod_id):
    for c in cri.list_containers(pod_id, timeout=10):
        try:
            cri.stop(c.id, 0, timeout=30)
        except cri.grpc.RpcError:
            pass
        try:
            cri.remove(c.id, timeout=30)
        except cri.grpc.RpcError:
            pass
    cri.stop_pod(pod_id, timeout=60)
    cri.remove_pod(pod_id, timeout=60)


def ensure_pod(L, cri):
    """The ready pod "quickstart" with both containers; returns what was done."""
    notes = []
    ready = []
    for p in quickstart_pods(cri):
        if p.state == 0:
            ready.append(p)
        else:
            remove_pod(cri, p.id)
            notes.append("removed not-ready pod %s" % p.id[:12])
    ready.sort(key=lambda p: p.created_at, reverse=True)
    for p in ready[1:]:
        remove_pod(cri, p.id)
        notes.append("removed extra pod %s" % p.id[:12])
    t0 = time.monotonic()
    if ready:
        pod_id = ready[0].id
        st = cri.pod_status(pod_id)
        cfg = cri.pod_config(POD, namespace=POD_NS, uid=st.metadata.uid, hostname=POD,
                             log_dir=os.path.join(L.pod_logs, "%s_%s_%s" % (POD_NS, POD, st.metadata.uid)),
                             cgroup_parent=L.names["cgroup_parent"])
        what = "already running (created %s), shown again" % ago(ready[0].created_at)
    else:
        uid = str(uuid.uuid4())
        log_dir = os.path.join(L.pod_logs, "%s_%s_%s" % (POD_NS, POD, uid))
        os.makedirs(log_dir, exist_ok=True)
        pod_id, cfg = cri.run_pod(POD, HANDLER, namespace=POD_NS, uid=uid, hostname=POD,
                                  log_dir=log_dir, cgroup_parent=L.names["cgroup_parent"])
        what = None
    have = {c.metadata.name: c for c in cri.list_containers(pod_id, timeout=10)}
    added = []
    for name, cmd in (("hello", HELLO_CMD), ("sleeper", SLEEPER_CMD)):
        c = have.get(name)
        if c and (name == "hello" or c.state == 1):
            continue
        if c:   # sleeper that is not running: replace it
            try:
                cri.stop(c.id, 0, timeout=30)
            except cri.grpc.RpcError:
                pass
            cri.remove(c.id, timeout=30)
        os.makedirs(os.path.join(cfg.log_directory, name), exist_ok=True)
        cid = cri.create_container(pod_id, cfg, name, BUSYBOX, command=cmd,
                                   log_path="%s/0.log" % name)
        cri.start(cid)
        added.append(name)
    if what is None:
        what = "created with containers hello and sleeper in %.1f s" % (time.monotonic() - t0)
    elif added:
        what += "; started %s again" % " and ".join(added)
    return pod_id, "; ".join(notes + [what])


# ---- show (step 4) ---------------------------------------------------------------------
STATE_NAMES = {0: "CREATED", 1: "RUNNING", 2: "EXITED", 3: "UNKNOWN"}


def show(L, cri, cpid):
    pods = cri.list_pods(timeout=10)
    rows = []
    for p in pods:
        st = pod_status(cri, p.id)
        ip = st.network.ip if st and st.network.ip else "-"
        rows.append([p.id[:13], p.metadata.name, p.metadata.namespace,
                     "READY" if p.state == 0 else "NOTREADY", p.runtime_handler or "-", ip,
                     ago(p.created_at)])
    say()
    if rows:
        table(["POD ID", "NAME", "NAMESPACE", "STATE", "HANDLER", "IP", "CREATED"], rows)
    else:
        say("  (no pods)")
    say()
    ctrs = cri.list_containers(timeout=10)
    names = {}
    rows = []
    hello = None
    for c in sorted(ctrs, key=lambda c: (c.pod_sandbox_id, c.metadata.name)):
        names[c.id] = c.metadata.name
        try:
            st = cri.status(c.id, timeout=10)
            state, code = STATE_NAMES.get(st.state, "?"), (str(st.exit_code) if st.state == 2 else "-")
            if c.metadata.name == "hello" and (hello is None or st.created_at > hello.created_at):
                hello = st
        except cri.grpc.RpcError as e:
            state, code = "? (%s)" % e.details(), "-"
        rows.append([c.id[:13], c.metadata.name, state, code, c.pod_sandbox_id[:13],
                     " ".join(c.image.image.split("@")[:1]) if c.image.image else "-"])
    if rows:
        table(["CONTAINER ID", "NAME", "STATE", "EXIT", "POD ID", "IMAGE"], rows)
    else:
        say("  (no containers)")
    if hello is not None:
        say()
        say("hello's log, %s:" % hello.log_path)
        text = _read(hello.log_path)
        for line in text.splitlines() or ["(empty)"]:
            say("  " + line)
    show_warrenctl(L)
    show_processes(L, cpid, names)


def show_warrenctl(L):
    ctl = os.path.join(L.bin_dir, "warrenctl")
    argv = [ctl, "--containerd-address", L.sock, "ps"]
    say()
    say("warrend's view (%s):" % " ".join(["warrenctl"] + argv[1:]))
    if not os.access(ctl, os.X_OK):
        say("  (%s not found; carrying on)" % ctl)
        return
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    env.update(L.warren_env())
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=15, env=env)
    except subprocess.TimeoutExpired:
        say("  (timed out after 15 s; carrying on)")
        return
    out = r.stdout.rstrip("\n")
    for line in out.splitlines():
        say("  " + line)
    if r.returncode != 0:
        err = r.stderr.strip().splitlines()
        say("  (failed, exit %d%s; carrying on)" % (r.returncode, ": " + err[0] if err else ""))
        for line in err[1:6]:
            say("  " + line)


def show_processes(L, cpid, names):
    t = processes()
    ours = base_procs(L, t)
    fronts = dict(warrend_fronts(L))
    parent = L.names["cgroup_parent"]
    rows, order = [], []
    for pid in sorted(ours):
        p = t[pid]
        if pid == cpid:
            continue
        if pid in fronts:
            order.append((0, pid, "warrend front"))
        elif p.exe_name.startswith("warrend") and p.ppid in fronts:
            order.append((1, pid, "warrend core"))
        elif in_cgroup(p, parent):
            cid = next((c[len(parent) + 1:].split("/")[0] for c in p.cgroups if under(c, parent)), "")
            order.append((2, pid, "container %s" % names.get(cid, cid[:13] or "?")))
        else:
            order.append((3, pid, "other: %s" % p.exe_name))
    for _, pid, what in sorted(order):
        p = t[pid]
        cmd = p.cmdline
        if p.exe_name.startswith("warrend"):   # its path and flags say nothing new here
            cmd = p.exe.replace(" (deleted)", "") + (" --core" if "--core" in cmd.split() else "")
        rows.append([pid, p.ppid, what, cmd if len(cmd) <= 60 else cmd[:59] + "…"])
    say()
    say("processes for this pod (every host process of this base but containerd%s):"
        % (", pid %d" % cpid if cpid else ""))
    if rows:
        table(["PID", "PPID", "WHAT", "COMMAND"], rows)
    else:
        say("  (none)")
    # The claim, checked: no shim and no pause process of this containerd.
    bad = []
    others = 0
    for p in t.values():
        shim = p.exe_name.startswith("containerd-shim")
        pause = p.exe_name == "pause" or p.comm == "pause"
        if not (shim or pause):
            continue
        if p.pid in ours or L.sock in p.cmdline.split():
            bad.append(p)
        else:
            others += 1
    if bad:
        say("  !! unexpected: %s" % "; ".join("pid %d %s" % (p.pid, p.cmd(60)) for p in bad))
    else:
        say("  no shim and no pause process: none of the %d processes on this host is a "
            "containerd-shim* or pause of this containerd%s."
            % (len(t), "; %d belong to other containerds" % others if others else ""))


# ---- down ------------------------------------------------------------------------------
def teardown(L, env):
    """Remove everything of this base; returns (report lines, leftovers)."""
    rep = []
    ids = sandbox_ids(L, L.names["network"])
    cpid = containerd_pid(L)
    if cpid and env:
        cri = None
        try:
            cri = connect_cri(L, env, wait_s=5)
        except Exception as e:   # no stubs, no grpc: carry on by killing
            rep.append("CRI unavailable (%s); killing instead" % e)
        if cri:
            nc = np = 0
            errs = []
            try:
                for c in cri.list_containers(timeout=10):
                    try:
                        cri.stop(c.id, 0, timeout=30)
                    except cri.grpc.RpcError:
                        pass
                    try:
                        cri.remove(c.id, timeout=30)
                        nc += 1
                    except cri.grpc.RpcError as e:
                        errs.append("container %s: %s" % (c.id[:12], e.details()))
                for p in cri.list_pods(timeout=10):
                    try:
                        cri.stop_pod(p.id, timeout=60)
                        cri.remove_pod(p.id, timeout=60)
                        np += 1
                    except cri.grpc.RpcError as e:
                        errs.append("pod %s: %s" % (p.id[:12], e.details()))
            except cri.grpc.RpcError as e:
                errs.append(e.details())
            cri.close()
            rep.append("removed %d container%s and %d pod%s through CRI%s"
                       % (nc, "" if nc == 1 else "s", np, "" if np == 1 else "s",
                          " (errors: %s)" % "; ".join(errs) if errs else ""))
        elif cpid:
            rep.append("containerd pid %d does not answer CRI; killing instead" % cpid)
    if cpid:
        os.kill(cpid, signal.SIGTERM)
        if wait_gone(cpid, 15):
            rep.append("stopped containerd (pid %d, SIGTERM)" % cpid)
        else:
            os.kill(cpid, signal.SIGKILL)
            wait_gone(cpid, 5)
            rep.append("containerd (pid %d) ignored SIGTERM for 15 s: SIGKILLed" % cpid)
    for pid, lock in warrend_fronts(L):
        os.kill(pid, signal.SIGTERM)
        if wait_gone(pid, 10):
            rep.append("stopped warrend (front pid %d from %s, SIGTERM)"
                       % (pid, os.path.relpath(lock, L.base)))
        else:
            os.kill(pid, signal.SIGKILL)
            wait_gone(pid, 5)
            rep.append("warrend (pid %d) ignored SIGTERM for 10 s: SIGKILLed" % pid)
    t = processes()
    left = base_procs(L, t)
    if left:
        rep.append("killing %d leftover process%s: %s"
                   % (len(left), "" if len(left) == 1 else "es",
                      "; ".join("%d %s" % (p, t[p].cmd(50)) for p in sorted(left))))
        # Leftovers: CRI and warrend had their chance.  A container's init
        # ignores SIGTERM (pid 1 of its namespace), so the grace is short.
        kill_pids(lambda: sorted(p for p in base_procs(L) if alive(p)), grace=(1, 5))
    n, stuck = unmount_all(L.base)
    if n:
        rep.append("unmounted %d mount%s under %s" % (n, "" if n == 1 else "s", L.base))
    if delete_bridge(L.names["bridge"]):
        rep.append("deleted bridge %s" % L.names["bridge"])
    n, cg_left = remove_cgroups(L.names["cgroup_parent"])
    if n:
        rep.append("removed %d cgroup%s under %s" % (n, "" if n == 1 else "s", L.names["cgroup_parent"]))
    res = cni_results(L, ids | sandbox_ids(L, L.names["network"]))
    for p in res:
        try:
            os.unlink(p)
        except OSError:
            pass
    if res:
        rep.append("removed %d CNI result%s in %s" % (len(res), "" if len(res) == 1 else "s", CNI_RESULTS))
    if os.path.isdir(L.base) and not stuck:
        shutil.rmtree(L.base, ignore_errors=True)
        rep.append("removed %s" % L.base)
    return rep, leftovers(L)


def leftovers(L):
    """What of this base still exists anywhere."""
    out = []
    t = processes()
    out += ["process %d %s" % (p, t[p].cmd(60)) for p in sorted(base_procs(L, t))]
    out += ["mount " + m for m in mounts_under(L.base)]
    out += ["cgroup " + d for d in cgroup_dirs(L.names["cgroup_parent"])]
    if link_exists(L.names["bridge"]):
        out.append("bridge " + L.names["bridge"])
    out += ["CNI result " + p for p in cni_results(L)]
    if os.path.lexists(L.base):
        out.append("directory " + L.base)
    return out


def is_ours(L):
    """The base dir is a quickstart dir (has our marker) or is empty/absent."""
    if not os.path.lexists(L.base):
        return True
    if os.path.exists(L.marker):
        return True
    try:
        return not os.listdir(L.base)
    except OSError:
        return False


def lock_base(L):
    os.makedirs(L.base, mode=0o711, exist_ok=True)
    fd = os.open(L.base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        say("waiting for another quickstart.py on %s ..." % L.base)
        fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def down_cmd(L):
    script = os.path.join(REPO, "tools", "quickstart.py")
    if os.path.realpath(os.getcwd()) == os.path.realpath(REPO):
        script = "tools/quickstart.py"
    cmd = "%s %s down" % (PYTHON, script)
    if L.base != DEFAULT_BASE:
        cmd += " --base %s" % L.base
    return cmd


# ---- commands --------------------------------------------------------------------------
def cmd_up(L):
    t_start = time.monotonic()
    if not is_ours(L):
        raise Fail("%s exists and is not a quickstart dir (no %s); choose another --base"
                   % (L.base, os.path.basename(L.marker)))
    for sock in (L.sock + ".ttrpc", os.path.join(L.warren_state, "0" * 16, "ns.sock")):
        if len(sock) > SUN_PATH_MAX:
            raise Fail("--base %s is too long: %s would not fit a unix socket address" % (L.base, sock))
    shim = os.path.join(L.bin_dir, "containerd-shim-warren-v2")
    for b in (shim, os.path.join(L.bin_dir, "warrend")):
        if not os.access(b, os.X_OK):
            raise Fail("%s missing: run `make` first (or pass --bin-dir)" % b)
    env = deps_env()
    lockfd = lock_base(L)
    say("warren quickstart in %s" % L.base)
    cpid = containerd_pid(L)
    cri = None
    if cpid:
        cri = connect_cri(L, env, wait_s=30)
        if not cri:
            raise Fail("containerd pid %d of %s does not answer CRI on %s; run `%s`"
                       % (cpid, L.base, L.sock, down_cmd(L)))
        say("  containerd  reused: pid %d, %s" % (cpid, L.sock))
    else:
        stale = [x for x in leftovers(L) if x != "directory " + L.base]
        if stale or os.path.exists(L.marker):
            rep, left = teardown(L, env)
            say("  cleaned up a crashed run first:")
            for line in rep or ["nothing to do"]:
                say("    " + line)
            if left:
                raise Fail("could not clean up:\n  " + "\n  ".join(left))
            os.close(lockfd)
            lockfd = lock_base(L)
        os.makedirs(L.base, mode=0o711, exist_ok=True)
        with open(L.marker, "w") as f:
            json.dump({"names": L.names, "bin_dir": L.bin_dir,
                       "created_by": "tools/quickstart.py"}, f, indent=1)
        write_config(L, env)
        t0 = time.monotonic()
        cpid, cri = start_containerd(L, env)
        say("  containerd  %s started: pid %d, CRI answered in %.1f s, %s"
            % (env.get("WARREN_CONTAINERD_VERSION", ""), cpid, time.monotonic() - t0, L.sock))
    t0 = time.monotonic()
    what = import_image(L, env, cri)
    say("  image       %s %s%s" % (BUSYBOX, what,
                                   " in %.1f s" % (time.monotonic() - t0) if what == "imported" else ""))
    _, what = ensure_pod(L, cri)
    say("  pod         %s/%s (handler %s, cgroup parent %s): %s"
        % (POD_NS, POD, HANDLER, L.names["cgroup_parent"], what))
    for c in cri.list_containers(timeout=10):
        if c.metadata.name == "hello":
            cri.wait_state(c.id, "CONTAINER_EXITED", deadline_s=10)
            path = cri.status(c.id).log_path
            end = time.monotonic() + 2
            while not _read(path) and time.monotonic() < end:
                time.sleep(0.05)
    show(L, cri, cpid)
    cri.close()
    say()
    say("up in %.1f s; containerd and the pod keep running. Tear it all down with:"
        % (time.monotonic() - t_start))
    say(down_cmd(L))
    return 0


def cmd_status(L):
    cpid = containerd_pid(L)
    if not cpid:
        if os.path.exists(L.base):
            say("quickstart in %s is not running (containerd is not alive); `%s` cleans up"
                % (L.base, down_cmd(L)))
        else:
            say("no quickstart in %s" % L.base)
        return 1
    env = deps_env()
    cri = connect_cri(L, env, wait_s=10)
    if not cri:
        say("containerd pid %d of %s does not answer CRI on %s" % (cpid, L.base, L.sock))
        return 1
    say("warren quickstart in %s: containerd pid %d, %s" % (L.base, cpid, L.sock))
    show(L, cri, cpid)
    cri.close()
    say()
    say("tear it all down with:")
    say(down_cmd(L))
    return 0


def cmd_down(L):
    if not is_ours(L):
        raise Fail("%s is not a quickstart dir (no %s); not touching it"
                   % (L.base, os.path.basename(L.marker)))
    t0 = time.monotonic()
    before = leftovers(L)
    if not before:
        say("nothing to tear down: no quickstart in %s" % L.base)
        return 0
    try:
        env = deps_env()
    except Fail as e:
        env = None
        say("  (%s: pods are killed, not removed through CRI)" % e)
    lockfd = lock_base(L) if os.path.isdir(L.base) else None
    say("warren quickstart down: %s" % L.base)
    rep, left = teardown(L, env)
    if lockfd is not None:
        os.close(lockfd)
    if left == ["directory " + L.base] and not os.listdir(L.base):
        os.rmdir(L.base)
        left = []
    for line in rep:
        say("  " + line)
    if left:
        say("left behind:")
        for x in left:
            say("  " + x)
        return 1
    say("down in %.1f s; nothing left (processes, mounts, cgroups, bridge %s, CNI results, %s)"
        % (time.monotonic() - t0, L.names["bridge"], L.base))
    return 0


def main():
    ap = argparse.ArgumentParser(prog="tools/quickstart.py",
                                 description="warren's quickstart: a private containerd and one pod.")
    ap.add_argument("command", choices=("up", "status", "down"))
    ap.add_argument("--base", default=DEFAULT_BASE,
                    help="directory for everything (default %(default)s)")
    ap.add_argument("--bin-dir", default=None,
                    help="where containerd-shim-warren-v2, warrend and warrenctl are "
                         "(default <repo>/build/bin)")
    a = ap.parse_args()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # `... status | head` ends quietly
    if os.geteuid() != 0:
        sys.stderr.write("quickstart: must run as root\n")
        return 2
    base = os.path.abspath(a.base).rstrip("/")
    if base.count("/") < 2 or base in ("/var/lib", "/tmp", "/run", "/home", "/root", "/usr"):
        sys.stderr.write("quickstart: --base %s is too broad (`down` deletes it)\n" % a.base)
        return 2
    L = Layout(base, os.path.abspath(a.bin_dir) if a.bin_dir else None)
    try:
        return {"up": cmd_up, "status": cmd_status, "down": cmd_down}[a.command](L)
    except Fail as e:
        sys.stderr.write("quickstart: %s\n" % e)
        return 1
    except Exception as e:
        if not hasattr(e, "details"):   # grpc.RpcError: say what failed, no traceback
            raise
        sys.stderr.write("quickstart: CRI call failed: %s: %s (containerd's log: %s)\n"
                         % (e.code().name, e.details(), L.log))
        return 1


if __name__ == "__main__":
    sys.exit(main())
