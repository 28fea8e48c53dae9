# harness.py — a private containerd 2.1 for warren's end-to-end tests, and a
# leak checker.
#
# Containerd() lays out a private world under /tmp/warren-e2e.<token>/ (root,
# state, temp, sockets, CNI config/bin/IPAM dirs, runc root, warren's
# WARREN_STATE_DIR and WARREN_ROOT), writes a version-3 config with two CRI
# runtime handlers — `runc` (io.containerd.runc.v2, sandboxer podsandbox, the
# stock shim, sandbox image warren.test/pause:latest) and `warren-ns`
# (io.containerd.warren-ns.v2, sandboxer shim, no options) — starts containerd
# under tests/e2e/reaper.py (a child subreaper, so every shim, daemon and
# container process stays a descendant we can find by pid), waits for CRI, and
# imports the test images into the k8s.io and default namespaces.
#
# Pods get cgroup parent /warren-e2e-<token>, ctr containers
# /warren-e2e-<token>/<id>; the CNI bridge is wre2e<token> (a gateway: it has
# the subnet's first address, so the host reaches pods) and the network
# warren-e2e-<token>, whose conflist chains bridge and portmap (pod port
# mappings become iptables nat rules; portmap keeps each pod's in a chain
# CNI-DN-<hash of network name and sandbox id>, jumped to from the shared
# CNI-HOSTPORT-DNAT with a comment naming the network and the sandbox).
# stop() SIGTERMs the containerd pid, kills any descendant left, unmounts
# everything under the private dir (deepest first), deletes the bridge, the
# cgroups, this network's iptables rules and chains, stale CNI results and
# shim sockets, and the dir; portmap's shared chains go too when this run
# made them and no other run or system containerd is left.  leaks() lists
# what is left while containerd runs (objects in containerd, processes
# other than containerd and a resident warrend, mounts, cgroups, netns, CNI
# results/leases/veths, this network's nat rules and chains, shim sockets,
# ctr FIFOs); the runner calls assert_no_leaks() after every case.
# reclaim_stale() cleans up after runs that were SIGKILLed.
#
# Environment: WARREN_SHIM (the warren shim binary, default
# build/bin/containerd-shim-warren-v2), WARREN_DEPS_ENV (default
# /var/cache/warren-deps/env.sh), WARREN_E2E_BUILD (default build/e2e).
import ctypes
import glob
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("WARREN_E2E_BUILD") or os.path.join(REPO, "build", "e2e")
PYTHON = "/usr/bin/python3"
PREFIX = "/tmp/warren-e2e."
CGROUP_ROOT = "/sys/fs/cgroup"
IMAGES = ("busybox", "pause", "badentry")
BUSYBOX = "warren.test/busybox:latest"
PAUSE = "warren.test/pause:latest"
BADENTRY = "warren.test/badentry:latest"
RUNTIME_TYPES = {"runc": "io.containerd.runc.v2", "warren-ns": "io.containerd.warren-ns.v2"}
# Long-lived processes besides containerd that may stay between tests (by
# executable basename): warren's resident daemon.
RESIDENT = ("warrend",)
# While a resident daemon runs, mounts at most this many levels below
# WARREN_STATE_DIR are its own (warrend binds <key>/<backend>/sandboxes onto
# itself to make it private); deeper ones belong to pods and are leaks.
RESIDENT_MOUNT_DEPTH = 3
# Host directories containerd, shims and CNI write to whatever the config
# says; the harness snapshots them and removes what it added.
HOST_DIRS = ("/run/containerd", "/var/lib/cni", "/run/netns")
DISABLED_PLUGINS = (
    "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
    "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs",
    "io.containerd.differ.v1.erofs", "io.containerd.tracing.processor.v1.otlp",
    "io.containerd.internal.v1.tracing", "io.containerd.nri.v1.nri",
    "io.containerd.monitor.container.v1.restart",
)
CNI_PLUGINS = ("bridge", "host-local", "loopback", "portmap")
CNI_PLUGIN_DIRS = ("/usr/lib/cni", "/opt/cni/bin")
# portmap's rules live in table nat of both families (it tears down both).
IPTABLES = ("iptables", "ip6tables")
# Chains every portmap user on the host shares (portmap never removes them).
PORTMAP_SHARED_CHAINS = ("CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ")
SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_libc = ctypes.CDLL(None, use_errno=True)
MNT_DETACH = 2


class HarnessError(Exception):
    pass


def log(msg):
    sys.stdout.write("    %s\n" % msg)
    sys.stdout.flush()


def load_deps_env():
    """WARREN_* variables from tools/fetch-newer-debs.sh's env.sh (the
    process environment wins)."""
    path = os.environ.get("WARREN_DEPS_ENV") or os.path.join(
        os.environ.get("WARREN_DEPS_DIR") or "/var/cache/warren-deps", "env.sh")
    env = {}
    if os.path.isfile(path):
        r = subprocess.run(["bash", "-c", 'set -a; . "$1" >/dev/null; env -0', "-", path],
                           capture_output=True, env={"PATH": "/usr/bin:/bin"})
        for kv in r.stdout.split(b"\0"):
            k, _, v = kv.decode(errors="replace").partition("=")
            if k.startswith("WARREN_"):
                env[k] = v
    for k, v in os.environ.items():
        if k.startswith("WARREN_"):
            env[k] = v
    need = ("WARREN_CONTAINERD", "WARREN_CTR", "WARREN_CONTAINERD_SHIM_RUNC_V2", "WARREN_GOCODE_SRC")
    missing = [k for k in need if not env.get(k)]
    if missing:
        raise HarnessError("%s not set and %s missing: run `make deps`" % (", ".join(missing), path))
    for k in need[:3]:
        if not os.access(env[k], os.X_OK):
            raise HarnessError("%s=%s is not executable: run `make deps`" % (k, env[k]))
    return env


# ---- /proc ----------------------------------------------------------------
def proc_table():
    """{pid: (ppid, comm, state)} of every process."""
    t = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        comm = s[s.index("(") + 1:s.rindex(")")]
        rest = s[s.rindex(")") + 2:].split()
        t[int(d)] = (int(rest[1]), comm, rest[0])
    return t


def descendants(root, table=None):
    """Pids below root (not root), zombies excluded."""
    table = table or proc_table()
    kids = {}
    for pid, (ppid, _, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        for c in kids.get(todo.pop(), []):
            todo.append(c)
            if table[c][2] != "Z":
                out.append(c)
    return out


def _readlink(p):
    try:
        return os.readlink(p)
    except OSError:
        return ""


def proc_desc(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        cmd = "?"
    return "pid %d [%s] %s" % (pid, os.path.basename(_readlink("/proc/%d/exe" % pid)), cmd[:160])


def cmdline(pid):
    """The argv of pid, as bytes ([] when it is gone)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def parse_warrenctl_stats(text):
    """`warrenctl stats` output ("key value" lines, then a row per method:
    name calls total_ms runtime_ms idle_ms own_ms) as {"keys": {...},
    "methods": {"service/method": {...}}}; None when it has no wall_ms."""
    keys, methods = {}, {}
    for line in text.split("\n"):
        f = line.split()
        try:
            if len(f) == 2:
                keys[f[0]] = float(f[1])
            elif len(f) == 6 and "/" in f[0]:
                methods[f[0]] = dict(zip(("calls", "total_ms", "runtime_ms", "idle_ms", "own_ms"),
                                         map(float, f[1:])))
        except ValueError:
            continue
    return {"keys": keys, "methods": methods} if "wall_ms" in keys else None


def exe_name(pid):
    return os.path.basename(_readlink("/proc/%d/exe" % pid)).replace(" (deleted)", "")


def pidns(pid):
    return _readlink("/proc/%d/ns/pid" % pid)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def procs_touching(prefix):
    """Pids whose cwd, root or executable lies under prefix."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        for what in ("cwd", "root", "exe"):
            if _readlink("/proc/%s/%s" % (d, what)).startswith(prefix):
                out.append(int(d))
                break
    return out


def _unescape(s):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


def mounts_under(prefix):
    """Mount points under prefix (self's mount namespace), deepest first."""
    pts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = _unescape(line.split()[4])
            if mp == prefix.rstrip("/") or mp.startswith(prefix):
                pts.append(mp)
    return sorted(pts, key=lambda p: (p.count("/"), len(p)), reverse=True)


def umount(path, detach=False):
    if _libc.umount2(path.encode(), MNT_DETACH if detach else 0) != 0:
        return ctypes.get_errno()
    return 0


def cgroup_dirs(rel):
    """Existing /sys/fs/cgroup[/<hierarchy>]/<rel> directories (v2, or every
    v1 hierarchy plus the hybrid unified one)."""
    rel = rel.strip("/")
    if os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.procs")):  # pure v2
        tops = [CGROUP_ROOT]
    else:
        tops = [os.path.join(CGROUP_ROOT, h) for h in sorted(os.listdir(CGROUP_ROOT))]
        tops = [t for t in tops if os.path.isdir(t) and not os.path.islink(t)]
    return [os.path.join(t, rel) for t in tops if os.path.isdir(os.path.join(t, rel))]


def cgroup_children(path):
    out = []
    for dirpath, dirnames, _ in os.walk(path):
        for d in dirnames:
            out.append(os.path.join(dirpath, d))
    return out


def cgroup_procs(path):
    pids = []
    for dirpath, _, _ in os.walk(path):
        try:
            with open(os.path.join(dirpath, "cgroup.procs")) as f:
                pids += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return pids


def snapshot_paths(roots):
    s = set()
    for r in roots:
        if not os.path.lexists(r):
            continue
        s.add(r)
        for dirpath, dirnames, filenames in os.walk(r):
            for n in dirnames + filenames:
                s.add(os.path.join(dirpath, n))
    return s


def socket_listening(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def link_exists(name):
    return os.path.exists("/sys/class/net/%s" % name)


def bridge_ports(name):
    try:
        return sorted(os.listdir("/sys/class/net/%s/brif" % name))
    except OSError:
        return []


def free_subnet():
    """A 10.250.N.0/24 that no route or address of the host uses yet (the
    bridge is a gateway: two runs on one subnet would shadow each other's
    route)."""
    used = set()
    r = subprocess.run(["ip", "-4", "-o", "route", "show", "table", "all"],
                       capture_output=True, text=True)
    r2 = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True)
    for m in re.finditer(r"\b10\.250\.(\d+)\.", r.stdout + r2.stdout):
        used.add(int(m.group(1)))
    free = [n for n in range(256) if n not in used]
    return "10.250.%d.0/24" % (free[secrets.randbelow(len(free))] if free else secrets.randbelow(256))


# ---- iptables (CNI portmap) -------------------------------------------------
def iptables_bin(name):
    return shutil.which(name, path=SBIN_PATH)


def nat_rules(name):
    """`<name> -t nat -S` lines ([] when the tool or the table is missing)."""
    b = iptables_bin(name)
    if not b:
        return []
    r = subprocess.run([b, "-w", "5", "-t", "nat", "-S"], capture_output=True, text=True)
    return r.stdout.splitlines() if r.returncode == 0 else []


def portmap_chain(netname, cid):
    """portmap's per-sandbox DNAT chain: CNI-DN- and the start of the hex
    SHA-512 of network name + container id, 28 characters in all."""
    return ("CNI-DN-" + hashlib.sha512((netname + cid).encode()).hexdigest())[:28]


def nat_objects(netname, ids, lines):
    """(chains, rules) of network netname in `-S` output: chains named after
    (netname, id) for an id in ids or jumped to by a rule whose comment names
    the network, and every rule that names the network or is in or jumps to
    such a chain."""
    tag = '\\"%s\\"' % netname  # -S prints the comment's quotes escaped
    chains = {portmap_chain(netname, i) for i in ids}
    for line in lines:
        if line.startswith("-A ") and tag in line:
            m = re.search(r"-j (CNI-\S+)", line)
            if m and m.group(1) not in PORTMAP_SHARED_CHAINS:
                chains.add(m.group(1))
    present = {line.split()[1] for line in lines if line.startswith("-N ")}
    chains &= present
    rules = []
    for line in lines:
        if not line.startswith("-A "):
            continue
        f = line.split()
        if tag in line or f[1] in chains or any(("-j %s" % c) in line for c in chains):
            rules.append(line)
    return sorted(chains), rules


def nat_leftovers(netname, ids):
    """["<tool> chain X" / "<tool> rule -A ..."] of netname still in table nat."""
    out = []
    for name in IPTABLES:
        chains, rules = nat_objects(netname, ids, nat_rules(name))
        out += ["%s -t nat chain %s" % (name, c) for c in chains]
        out += ["%s -t nat rule %s" % (name, r) for r in rules]
    return out


def _iptables(name, *args):
    return subprocess.run([iptables_bin(name), "-w", "5", "-t", "nat", *args],
                          capture_output=True, text=True)


def remove_nat_objects(netname, ids):
    """Delete netname's rules (those in shared chains one by one), then flush
    and delete its chains.  Returns what could not be removed."""
    import shlex
    problems = []
    for name in IPTABLES:
        if not iptables_bin(name):
            continue
        chains, rules = nat_objects(netname, ids, nat_rules(name))
        for line in rules:
            f = shlex.split(line)
            if f[1] in chains:
                continue  # goes with its chain
            r = _iptables(name, "-D", *f[1:])
            if r.returncode != 0:
                problems.append("%s -t nat -D %s: %s" % (name, " ".join(f[1:]), r.stderr.strip()))
        for c in chains:
            _iptables(name, "-F", c)
            r = _iptables(name, "-X", c)
            if r.returncode != 0:
                problems.append("%s -t nat -X %s: %s" % (name, c, r.stderr.strip()))
    return problems


def shared_nat_chains():
    """{tool: set of portmap's shared chains present}."""
    return {name: {line.split()[1] for line in nat_rules(name)
                   if line.startswith("-N ") and line.split()[1] in PORTMAP_SHARED_CHAINS}
            for name in IPTABLES}


def prune_shared_nat_chains(made):
    """Remove portmap's shared chains that this run made (made: {tool:
    chains absent before it started}) when no pod mapping is left in them:
    the jumps to them from the built-in chains, then the chains."""
    import shlex
    for name, chains in made.items():
        lines = nat_rules(name)
        present = {line.split()[1] for line in lines if line.startswith("-N ")}
        chains = set(chains) & present
        if not chains or any(line.startswith("-A CNI-HOSTPORT-DNAT ") for line in lines):
            continue  # a mapping (anybody's) still uses them
        for line in lines:
            f = shlex.split(line)
            if f[0] == "-A" and f[1] not in PORTMAP_SHARED_CHAINS and \
                    any(("-j %s" % c) in line for c in chains):
                _iptables(name, "-D", *f[1:])
        for c in chains:
            _iptables(name, "-F", c)
        for c in chains:
            _iptables(name, "-X", c)


def run(cmd, timeout=60, check=True, **kw):
    """subprocess.run with text output, a deadline and a readable error."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        raise HarnessError("timed out after %ss: %s" % (timeout, " ".join(cmd)))
    if check and r.returncode != 0:
        raise HarnessError("exit %d: %s\nstdout: %s\nstderr: %s"
                           % (r.returncode, " ".join(cmd), r.stdout.strip(), r.stderr.strip()))
    return r


def wait_until(fn, deadline_s, interval=0.1):
    """Call fn until it returns a false value (nothing wrong) or time is up;
    returns its last value."""
    end = time.monotonic() + deadline_s
    while True:
        v = fn()
        if not v or time.monotonic() > end:
            return v
        time.sleep(interval)


class Containerd:
    def __init__(self, shim=None, verbose=False, portmap=True, run_tmpfs=False):
        """portmap=False: a conflist of bridge alone (the benchmark's, so that
        pod start and teardown times stay comparable with earlier runs).
        run_tmpfs=True: the runtime state dirs (containerd's state, runc's
        root, WARREN_STATE_DIR) on a private tmpfs, as /run is on a real
        node; the default keeps them in the private dir on whatever file
        system holds /tmp."""
        self.env = load_deps_env()
        self.verbose = verbose
        self.portmap = portmap
        self.shim = os.path.abspath(shim or self.env.get("WARREN_SHIM") or os.path.join(
            REPO, "build", "bin", "containerd-shim-warren-v2"))
        self.ctr_bin = self.env["WARREN_CTR"]
        while True:
            self.token = secrets.token_hex(3)
            self.base = PREFIX + self.token
            try:
                os.mkdir(self.base, 0o711)
                break
            except FileExistsError:
                continue
        self.cgroup_parent = "/warren-e2e-" + self.token
        self.bridge = "wre2e" + self.token
        self.netname = "warren-e2e-" + self.token
        self.subnet = free_subnet()
        b = self.base
        self.bin_dir = os.path.join(b, "bin")
        self.sock = os.path.join(b, "containerd.sock")
        self.ttrpc_sock = os.path.join(b, "containerd.sock.ttrpc")
        self.root = os.path.join(b, "root")
        # what a node keeps under /run: on a tmpfs when run_tmpfs
        self.run_dir = os.path.join(b, "run") if run_tmpfs else None
        rb = self.run_dir or b
        self.state = os.path.join(rb, "state")
        self.config = os.path.join(b, "config.toml")
        self.log_path = os.path.join(b, "containerd.log")
        self.pidfile = os.path.join(b, "containerd.pid")
        self.runc_root = os.path.join(rb, "runc")
        self.logs_dir = os.path.join(b, "pod-logs")
        self.cni_bin = os.path.join(b, "cni", "bin")
        self.cni_conf = os.path.join(b, "cni", "conf")
        self.cni_ipam = os.path.join(b, "cni", "ipam")
        self.warren_state = os.path.join(rb, "warren", "state")
        self.warren_root = os.path.join(b, "warren", "root")
        self.netns_dir = os.path.join(self.state, "io.containerd.grpc.v1.cri", "netns")
        self.keeper = None
        self.pid = None
        self.host_pidns = pidns(os.getpid())
        self.host_before = set()
        self.nat_before = None  # portmap's shared chains before we started
        self.known_ids = set()
        self.cri = None
        self.images = {}

    # ---- setup ----------------------------------------------------------------
    def _write_files(self):
        if self.run_dir:
            os.makedirs(self.run_dir, 0o711, exist_ok=True)
            run(["mount", "-t", "tmpfs", "-o", "mode=0711,nosuid,nodev", "tmpfs", self.run_dir])
        for d in (self.bin_dir, self.root, self.state, self.runc_root, self.logs_dir,
                  self.cni_bin, self.cni_conf, self.cni_ipam, self.warren_state,
                  self.warren_root, os.path.join(self.base, "tmp"), os.path.join(self.base, "opt")):
            os.makedirs(d, exist_ok=True)
        links = {
            "containerd-shim-runc-v2": self.env["WARREN_CONTAINERD_SHIM_RUNC_V2"],
            "containerd-shim-warren-v2": self.shim,
            "containerd-shim-warren-ns-v2": self.shim,
        }
        for name, target in links.items():
            os.symlink(target, os.path.join(self.bin_dir, name))
        for p in CNI_PLUGINS if self.portmap else [x for x in CNI_PLUGINS if x != "portmap"]:
            for d in CNI_PLUGIN_DIRS:
                if os.access(os.path.join(d, p), os.X_OK):
                    os.symlink(os.path.join(d, p), os.path.join(self.cni_bin, p))
                    break
            else:
                raise HarnessError("CNI plugin %s not found in %s (apt-get install "
                                   "containernetworking-plugins, or `make deps`)"
                                   % (p, " or ".join(CNI_PLUGIN_DIRS)))
        conflist = {
            "cniVersion": "1.0.0", "name": self.netname,
            "plugins": [{"type": "bridge", "bridge": self.bridge, "isGateway": True,
                         "ipMasq": False, "hairpinMode": False,
                         "ipam": {"type": "host-local", "dataDir": self.cni_ipam,
                                  "ranges": [[{"subnet": self.subnet}]]}},
                        {"type": "portmap", "capabilities": {"portMappings": True}}],
        }
        if not self.portmap:
            del conflist["plugins"][1:]
        with open(os.path.join(self.cni_conf, "10-warren-e2e.conflist"), "w") as f:
            json.dump(conflist, f, indent=1)
        q = lambda s: "'%s'" % s  # TOML literal string (our paths hold no quote)
        cri_rt = "plugins.'io.containerd.cri.v1.runtime'"
        cfg = "\n".join([
            "# private containerd for warren's e2e tests (tests/e2e/harness.py)",
            "version = 3",
            "root = %s" % q(self.root),
            "state = %s" % q(self.state),
            "temp = %s" % q(os.path.join(self.base, "tmp")),
            "disabled_plugins = [%s]" % ", ".join(q(p) for p in DISABLED_PLUGINS),
            "",
            "[grpc]", "  address = %s" % q(self.sock),
            "[ttrpc]", "  address = %s" % q(self.ttrpc_sock),
            "[debug]", "  level = %s" % q("debug" if self.verbose else "info"),
            "",
            "[plugins.'io.containerd.internal.v1.opt']",
            "  path = %s" % q(os.path.join(self.base, "opt")),
            "[plugins.'io.containerd.cri.v1.images']",
            "  snapshotter = 'overlayfs'",
            "  [plugins.'io.containerd.cri.v1.images'.pinned_images]",
            "    sandbox = %s" % q(PAUSE),
            "[plugins.'io.containerd.grpc.v1.cri']",
            "  stream_server_address = '127.0.0.1'",
            "  stream_server_port = '0'",
            "[%s]" % cri_rt,
            "  restrict_oom_score_adj = true",
            "  netns_mounts_under_state_dir = true",
            "  enable_cdi = false",
            "  [%s.cni]" % cri_rt,
            "    bin_dirs = [%s]" % q(self.cni_bin),
            "    conf_dir = %s" % q(self.cni_conf),
            "    max_conf_num = 1",
            "  [%s.containerd]" % cri_rt,
            "    default_runtime_name = 'runc'",
            "    [%s.containerd.runtimes.runc]" % cri_rt,
            "      runtime_type = 'io.containerd.runc.v2'",
            "      sandboxer = 'podsandbox'",
            "      [%s.containerd.runtimes.runc.options]" % cri_rt,
            "        Root = %s" % q(self.runc_root),
            "    [%s.containerd.runtimes.warren-ns]" % cri_rt,
            "      runtime_type = 'io.containerd.warren-ns.v2'",
            "      sandboxer = 'shim'",
            "",
        ])
        with open(self.config, "w") as f:
            f.write(cfg)

    def _daemon_env(self):
        env = {
            "PATH": self.bin_dir + ":" + SBIN_PATH,
            "HOME": "/root", "LANG": "C.UTF-8",
            "WARREN_STATE_DIR": self.warren_state,
            "WARREN_ROOT": self.warren_root,
        }
        for k in ("WARREN_LOG_LEVEL", "WARREN_DAEMON", "ASAN_OPTIONS", "UBSAN_OPTIONS",
                  "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        return env

    def start(self):
        t0 = time.monotonic()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        log("containerd %s up in %.1f s (%s)" % (self.token, time.monotonic() - t0, self.base))

    def _start(self):
        from cri import CRI, ensure_stubs
        pb2, pb2_grpc = ensure_stubs(os.path.join(BUILD, "cri"), self.env["WARREN_GOCODE_SRC"])
        r = run([os.path.join(REPO, "tools", "build-test-images.sh"), os.path.join(BUILD, "images")],
                timeout=120)
        for line in r.stdout.split("\n"):
            if line.strip():
                name, path = line.split()
                self.images[name] = path
        self._write_files()
        self.host_before = snapshot_paths(HOST_DIRS)
        self.nat_before = shared_nat_chains()
        with open(os.path.join(self.base, "nat-before.json"), "w") as f:
            json.dump({k: sorted(v) for k, v in self.nat_before.items()}, f)  # for reclaim_stale
        logf = open(self.log_path, "ab")
        try:
            self.keeper = subprocess.Popen(
                [PYTHON, os.path.join(HERE, "reaper.py"), self.pidfile,
                 self.env["WARREN_CONTAINERD"], "--config", self.config],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, cwd=self.base,
                env=self._daemon_env(), start_new_session=True)
        finally:
            logf.close()
        end = time.monotonic() + 10
        while not os.path.exists(self.pidfile):
            if self.keeper.poll() is not None or time.monotonic() > end:
                raise HarnessError("containerd did not start:\n" + self.log_tail())
            time.sleep(0.02)
        self.pid = int(open(self.pidfile).read())
        self.cri = CRI(self.sock, pb2, pb2_grpc, on_id=self.note_id)
        end = time.monotonic() + 30
        while True:
            if self.keeper.poll() is not None:
                raise HarnessError("containerd exited:\n" + self.log_tail())
            if os.path.exists(self.sock):
                try:
                    self.cri.version(timeout=2)
                    break
                except self.cri.grpc.RpcError:
                    pass
            if time.monotonic() > end:
                raise HarnessError("containerd CRI did not answer in 30 s:\n" + self.log_tail())
            time.sleep(0.05)
        self.import_images()

    def containerd_version(self):
        """containerd's version as the fetched package says (e.g. 2.1.9)."""
        return self.env.get("WARREN_CONTAINERD_VERSION", "")

    def restart(self):
        """Restart containerd (SIGTERM, then the reaper starts it again with
        the same config), as a service manager would; shims, warrend and
        containers are left alone.  Returns when CRI answers again."""
        old = self.pid
        open(self.pidfile + ".restart", "w").close()
        os.kill(old, signal.SIGTERM)
        if wait_until(lambda: alive(old), 15):
            raise HarnessError("containerd did not exit on SIGTERM in 15 s")

        def new_pid():
            try:
                return int(open(self.pidfile).read()) != old
            except (OSError, ValueError):
                return False
        if wait_until(lambda: not new_pid(), 10):
            raise HarnessError("containerd was not restarted:\n" + self.log_tail())
        self.pid = int(open(self.pidfile).read())

        def answers():
            try:
                self.cri.version(timeout=2)
                return True
            except self.cri.grpc.RpcError:
                return False
        if wait_until(lambda: not answers(), 30):
            raise HarnessError("containerd CRI did not answer after restart:\n" + self.log_tail())

    def import_images(self, namespaces=("k8s.io", "default"), names=None):
        procs = []
        for ns in namespaces:
            for name, path in self.images.items():
                if names and name not in names:
                    continue
                procs.append((ns, name, subprocess.Popen(
                    self.ctr_argv(ns, "images", "import", path),
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        for ns, name, p in procs:
            out, _ = p.communicate(timeout=120)
            if p.returncode != 0:
                raise HarnessError("importing %s into %s failed:\n%s" % (name, ns, out))

    def log_tail(self, n=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no containerd log)"

    def warren_log_tails(self, n=40):
        """[(name, tail)] of the log files under WARREN_STATE_DIR (warrend.log)."""
        out = []
        for p in sorted(glob.glob(os.path.join(self.warren_state, "**", "*.log"), recursive=True)):
            try:
                with open(p, errors="replace") as f:
                    out.append((os.path.basename(p), "".join(f.readlines()[-n:])))
            except OSError:
                pass
        return out

    # ---- helpers for tests -------------------------------------------------------
    def ctr_argv(self, ns, *args):
        return [self.ctr_bin, "-a", self.sock, "--connect-timeout", "10s", "-n", ns, *args]

    def ctr(self, *args, ns="default", timeout=60, check=True, input=None):
        """Run ctr against our containerd; CompletedProcess (text)."""
        return run(self.ctr_argv(ns, *args), timeout=timeout, check=check, input=input)

    def ctr_popen(self, *args, ns="default"):
        return subprocess.Popen(self.ctr_argv(ns, *args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def daemon_procs(self):
        """Live descendants of the reaper: containerd and everything it started."""
        if not self.keeper:
            return []
        return descendants(self.keeper.pid)

    def runtime_procs(self):
        """Live processes containerd started: descendants of the reaper other
        than containerd, plus any process whose cwd/root/exe is in our dir."""
        pids = set(self.daemon_procs()) | set(procs_touching(self.base + "/"))
        pids.discard(self.pid)
        if self.keeper:
            pids.discard(self.keeper.pid)
        pids.discard(os.getpid())
        return sorted(p for p in pids if alive(p))

    def pod_log_dir(self, name):
        d = os.path.join(self.logs_dir, name)
        os.makedirs(d, exist_ok=True)
        return d

    # ---- leak checking -------------------------------------------------------------
    def note_id(self, cid):
        """Remember a container/sandbox id, to recognise host files named
        after it (shim sockets, ctr FIFOs, CNI results)."""
        self.known_ids.add(cid)

    def _new_host_paths(self):
        return sorted(snapshot_paths(HOST_DIRS) - self.host_before)

    def _cni_results(self):
        out = []
        for p in glob.glob("/var/lib/cni/results/*"):
            n = os.path.basename(p)
            if n.startswith(self.netname + "-") or any(s in n for s in self.known_ids):
                out.append(p)
        return out

    def _shim_sockets(self):
        """Names in /run/containerd/s/ of this containerd's shims: the
        addresses its log mentions, and sha256(<grpc address>/<ns>/<id>[/debug])
        (how containerd's pkg/shim names them) for every id we know."""
        names = set()
        try:
            with open(self.log_path, errors="replace") as f:
                names |= set(re.findall(r"/run/containerd/s/([0-9a-f]{64})", f.read()))
        except OSError:
            pass
        for cid in self.known_ids:
            for ns in ("default", "k8s.io"):
                for sfx in ("", "/debug"):
                    path = "%s/%s/%s%s" % (self.sock, ns, cid, sfx)
                    names.add(hashlib.sha256(path.encode()).hexdigest())
        return names

    def host_leftovers(self):
        """Files of ours in the shared host dirs: shim sockets, ctr FIFOs,
        runc state, CNI results."""
        out = []
        socks = self._shim_sockets()
        out += [p for p in glob.glob("/run/containerd/s/*") if os.path.basename(p) in socks]
        for p in glob.glob("/run/containerd/fifo/*/*"):
            n = os.path.basename(p)
            if any(n.startswith(i + "-") for i in self.known_ids):
                out.append(p)
        out += [p for p in glob.glob("/run/containerd/runc/*/*") if os.path.basename(p) in self.known_ids]
        out += self._cni_results()
        return out

    def other_runs(self):
        """Private dirs of other live harness runs (their containerd is up)."""
        out = []
        for base in glob.glob(PREFIX + "*"):
            if base == self.base:
                continue
            try:
                pid = int(open(os.path.join(base, "containerd.pid")).read())
            except (OSError, ValueError):
                continue
            if alive(pid):
                out.append(base)
        return out

    def _ipam_leases(self):
        d = os.path.join(self.cni_ipam, self.netname)
        try:
            return [n for n in os.listdir(d) if n != "lock" and not n.startswith("last_reserved_ip")]
        except OSError:
            return []

    def leaks(self, allow_resident=True):
        """What is left while containerd runs and no test object should
        exist.  Returns a list of strings (empty: clean)."""
        found = []
        if self.keeper and self.keeper.poll() is None and alive(self.pid):
            try:
                for p in self.cri.list_pods(timeout=10):
                    found.append("CRI pod %s %s" % (p.id[:12], p.metadata.name))
                for c in self.cri.list_containers(timeout=10):
                    found.append("CRI container %s %s" % (c.id[:12], c.metadata.name))
            except self.cri.grpc.RpcError as e:
                found.append("CRI list failed: %s" % e.details())
            for ns in ("default", "k8s.io"):
                for what in ("containers", "tasks", "sandboxes"):
                    # `ctr sandboxes ls` has no -q: skip its header line instead
                    quiet = ["-q"] if what != "sandboxes" else []
                    r = self.ctr(what, "ls", *quiet, ns=ns, check=False, timeout=30)
                    if r.returncode != 0:
                        found.append("ctr -n %s %s ls: %s" % (ns, what, r.stderr.strip()))
                        continue
                    lines = r.stdout.split("\n")[0 if quiet else 1:]
                    for line in lines:
                        if line.strip():
                            found.append("containerd %s %s/%s" % (
                                what[:-2] if what == "sandboxes" else what[:-1], ns, line.split()[0]))
        else:
            found.append("containerd is not running")
        resident = False
        for pid in self.runtime_procs():
            if allow_resident and exe_name(pid) in RESIDENT:
                resident = True
                continue
            found.append("process " + proc_desc(pid))
        for m in mounts_under(self.base + "/"):
            if m == self.run_dir:
                continue  # the run dir's own tmpfs
            rel = os.path.relpath(m, self.warren_state)
            if resident and not rel.startswith("..") and rel.count("/") < RESIDENT_MOUNT_DEPTH:
                continue  # the daemon's own, e.g. <key>/ns/sandboxes bound onto itself
            found.append("mount " + m)
        for top in cgroup_dirs(self.cgroup_parent):
            found += ["cgroup " + c for c in cgroup_children(top)]
        try:
            found += ["netns " + n for n in os.listdir(self.netns_dir)]
        except OSError:
            pass
        found += ["CNI IPAM lease " + p for p in self._ipam_leases()]
        found += ["bridge port %s on %s" % (p, self.bridge) for p in bridge_ports(self.bridge)]
        found += nat_leftovers(self.netname, self.known_ids)
        found += ["host file " + p for p in self.host_leftovers()]
        return found

    def assert_no_leaks(self, deadline_s=15):
        """Wait (shims and cgroups go away asynchronously) until leaks() is
        empty; raise AssertionError listing what is left."""
        left = wait_until(self.leaks, deadline_s, interval=0.2)
        if left:
            raise AssertionError("left behind:\n      " + "\n      ".join(left))

    # ---- teardown --------------------------------------------------------------------
    def reset(self):
        """Best effort, through the APIs: remove every CRI pod and container,
        kill and delete every task, delete every container (namespaces
        default and k8s.io).  Returns the errors met."""
        errs = []
        try:
            if self.cri:
                errs += self.cri.remove_everything()
            for ns in ("default", "k8s.io"):
                r = self.ctr("tasks", "ls", "-q", ns=ns, check=False, timeout=30)
                for t in r.stdout.split():
                    self.ctr("tasks", "kill", "-s", "SIGKILL", t, ns=ns, check=False, timeout=30)
                    self.ctr("tasks", "delete", "-f", t, ns=ns, check=False, timeout=30)
                r = self.ctr("containers", "ls", "-q", ns=ns, check=False, timeout=30)
                for c in r.stdout.split():
                    r2 = self.ctr("containers", "delete", c, ns=ns, check=False, timeout=30)
                    if r2.returncode != 0:
                        errs.append("ctr -n %s containers delete %s: %s" % (ns, c, r2.stderr.strip()))
        except HarnessError as e:
            errs.append(str(e))
        return errs

    def _kill_all(self, pids_fn, what):
        """SIGTERM, then SIGKILL, the pids pids_fn() returns until none."""
        for sig, grace in ((signal.SIGTERM, 3), (signal.SIGKILL, 5), (signal.SIGKILL, 5)):
            pids = pids_fn()
            if not pids:
                return []
            if sig == signal.SIGTERM:
                others = [p for p in pids if exe_name(p) not in RESIDENT]
                if others:
                    log("killing %d leftover %s: %s" % (len(others), what,
                                                          "; ".join(proc_desc(p) for p in others)))
            else:
                log("SIGKILL: %s" % "; ".join(proc_desc(p) for p in pids))
            for p in pids:
                try:
                    os.kill(p, sig)
                except ProcessLookupError:
                    pass
            wait_until(pids_fn, grace)
        return pids_fn()

    def stop(self):
        """Stop containerd and remove everything this instance made.  Returns
        the list of leaks found after cleanup (empty: clean)."""
        problems = []
        if self.keeper and self.keeper.poll() is None and self.pid and alive(self.pid):
            problems += ["cleanup: " + e for e in self.reset()]
            os.kill(self.pid, signal.SIGTERM)
            if wait_until(lambda: alive(self.pid), 15):
                problems.append("containerd did not exit on SIGTERM in 15 s; killed")
                os.kill(self.pid, signal.SIGKILL)
                wait_until(lambda: alive(self.pid), 5)
        if self.cri:
            self.cri.close()
            self.cri = None
        if self.keeper:
            left = self._kill_all(self.daemon_procs, "processes")
            if left:
                problems.append("unkillable: " + "; ".join(proc_desc(p) for p in left))
            try:
                self.keeper.wait(timeout=10)
            except subprocess.TimeoutExpired:
                problems.append("reaper %d did not exit" % self.keeper.pid)
                self.keeper.kill()
                self.keeper.wait()
        left = self._kill_all(lambda: [p for p in procs_touching(self.base + "/") if alive(p)],
                              "processes using %s" % self.base)
        problems += ["process " + proc_desc(p) for p in left]
        self._save_logs()
        problems += self.cleanup_paths()
        return problems

    def _save_logs(self):
        """Keep the last run's daemon logs in BUILD/logs (the private dir goes)."""
        dest = os.path.join(BUILD, "logs")
        try:
            shutil.rmtree(dest, ignore_errors=True)
            os.makedirs(dest, exist_ok=True)
            if os.path.exists(self.log_path):
                shutil.copy(self.log_path, os.path.join(dest, "containerd.log"))
            for p in glob.glob(os.path.join(self.warren_state, "**", "*.log"), recursive=True):
                shutil.copy(p, os.path.join(dest, os.path.basename(p)))
        except OSError as e:
            log("saving logs failed: %s" % e)

    def cleanup_paths(self):
        """Everything but processes: mounts, links, cgroups, CNI and host
        leftovers, the private dir.  Returns what could not be removed."""
        problems = []
        for _ in range(10):
            pts = mounts_under(self.base + "/")
            if not pts:
                break
            for mp in pts:
                if umount(mp) not in (0, 22):  # EINVAL: already gone / not a mount
                    umount(mp, detach=True)
        problems += ["mount " + m for m in mounts_under(self.base + "/")]
        for port in bridge_ports(self.bridge):
            run(["ip", "link", "del", port], check=False)
        if link_exists(self.bridge):
            run(["ip", "link", "del", self.bridge], check=False)
            if link_exists(self.bridge):
                problems.append("bridge %s" % self.bridge)
        problems += remove_nat_objects(self.netname, self.known_ids)
        for top in cgroup_dirs(self.cgroup_parent):
            for pid in cgroup_procs(top):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for d in sorted(cgroup_children(top) + [top], key=len, reverse=True):
                for _ in range(50):
                    try:
                        os.rmdir(d)
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        time.sleep(0.1)
                else:
                    problems.append("cgroup " + d)
        for p in self.host_leftovers():
            try:
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p)
                elif not p.startswith("/run/containerd/s/") or not socket_listening(p):
                    os.unlink(p)
                else:
                    problems.append("host file %s (still listening)" % p)
            except OSError as e:
                problems.append("host file %s: %s" % (p, e))
        if not self.other_runs():
            prune_shared_dirs()
            if self.nat_before is not None and not os.path.exists("/run/containerd/containerd.sock"):
                prune_shared_nat_chains({n: set(PORTMAP_SHARED_CHAINS) - self.nat_before.get(n, set())
                                         for n in IPTABLES})
        if mounts_under(self.base + "/"):
            problems.append("%s kept: mounts remain under it" % self.base)
        elif os.path.exists(self.base):
            shutil.rmtree(self.base, ignore_errors=True)
            if os.path.exists(self.base):
                problems.append("could not remove " + self.base)
        if self.keeper and self.keeper.poll() is None:
            problems.append("reaper still running")
        return problems

    def warrend_pids(self):
        """(front pid, core pid) of this containerd's warrend, None where not
        running: among the reaper's descendants (never by name system-wide),
        executables named warrend; the core is the front's child run with --core."""
        table = proc_table()
        procs = [p for p in self.daemon_procs() if p in table and exe_name(p) == "warrend"]
        # (a core being spawned is, until its exec, a copy of the front: its parent tells)
        fronts = [p for p in procs if table[p][0] not in procs and b"--core" not in cmdline(p)]
        front = fronts[0] if len(fronts) == 1 else None
        cores = [p for p in procs if b"--core" in cmdline(p) and front and table[p][0] == front]
        return front, (cores[0] if len(cores) == 1 else None)

    def warrenctl(self, *args, timeout=30):
        """Run warrenctl (next to the shim) against this containerd's
        warrend; CompletedProcess (text)."""
        tool = os.path.join(os.path.dirname(self.shim), "warrenctl")
        return subprocess.run([tool, "--containerd-address", self.sock, *args],
                              env=dict(os.environ, **self._daemon_env()), capture_output=True,
                              text=True, timeout=timeout)

    def final_leaks(self):
        """After stop(): nothing of this instance may remain anywhere."""
        out = []
        if os.path.exists(self.base):
            out.append("dir %s remains" % self.base)
        out += ["mount " + m for m in mounts_under(self.base + "/")]
        out += ["process " + proc_desc(p) for p in procs_touching(self.base + "/") if alive(p)]
        if self.keeper and self.keeper.poll() is None:
            out.append("reaper still running")
        out += ["cgroup " + d for d in cgroup_dirs(self.cgroup_parent)]
        if link_exists(self.bridge):
            out.append("bridge " + self.bridge)
        out += ["CNI result " + p for p in self._cni_results()]
        out += nat_leftovers(self.netname, self.known_ids)
        out += ["host file " + p for p in self.host_leftovers()]
        return out

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        problems = self.stop()
        if problems and exc[0] is None:
            raise AssertionError("teardown left: " + "; ".join(problems))


def reclaim_stale():
    """Clean up after earlier runs that died without stopping: dirs
    /tmp/warren-e2e.<token> whose reaper is gone.  Returns what was reclaimed."""
    done = []
    for base in glob.glob(PREFIX + "*"):
        token = base[len(PREFIX):]
        if not re.fullmatch(r"[0-9a-f]{6}", token):
            continue
        pidfile = os.path.join(base, "containerd.pid")
        try:
            pid = int(open(pidfile).read())
        except (OSError, ValueError):
            pid = None
        if pid and alive(pid):
            continue  # containerd of a live run
        # Live processes using the dir belong to the dead run.
        users = [p for p in procs_touching(base + "/") if alive(p)]
        if any(exe_name(p) == "reaper.py" or "reaper.py" in proc_desc(p) for p in users):
            continue
        c = Containerd.__new__(Containerd)
        c.token, c.base = token, base
        c.cgroup_parent, c.bridge, c.netname = "/warren-e2e-" + token, "wre2e" + token, "warren-e2e-" + token
        c.cni_ipam = os.path.join(base, "cni", "ipam")
        c.known_ids, c.host_before, c.keeper = set(), snapshot_paths(HOST_DIRS), None
        try:  # which of portmap's shared chains that run found (the others it made)
            with open(os.path.join(base, "nat-before.json")) as f:
                c.nat_before = {k: set(v) for k, v in json.load(f).items()}
        except (OSError, ValueError, AttributeError):
            c.nat_before = None  # unknown: portmap's shared chains are left alone
        c.sock, c.log_path = os.path.join(base, "containerd.sock"), os.path.join(base, "containerd.log")
        for d in ("state/io.containerd.grpc.v1.cri/sandboxes", "root/io.containerd.grpc.v1.cri/sandboxes",
                  "root/io.containerd.grpc.v1.cri/containers", "state/io.containerd.runtime.v2.task/*",
                  "run/state/io.containerd.grpc.v1.cri/sandboxes", "run/state/io.containerd.runtime.v2.task/*"):
            for p in glob.glob(os.path.join(base, d, "*")):
                c.known_ids.add(os.path.basename(p))
        for p in users:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_until(lambda: [p for p in users if alive(p)], 5)
        c.cleanup_paths()
        done.append(base)
    done += reclaim_orphan_daemons()
    if done and not [b for b in glob.glob(PREFIX + "*") if b not in done]:
        prune_shared_dirs()
    return done


def reclaim_orphan_daemons():
    """warrends (front, then its core on its own) serving the containerd of
    a run whose directory is gone: a run killed after its clean-up removed
    the directory but before it stopped them.  Found by the run's unique
    path on their command line, never by name alone."""
    done = []
    pat = re.compile(r"--containerd-address (%s[0-9a-f]{6})/" % re.escape(PREFIX))
    for pid in proc_table():
        if exe_name(pid) != "warrend":
            continue
        m = pat.search(proc_desc(pid))
        if not m or os.path.exists(m.group(1)) or "--core" in proc_desc(pid):
            continue
        try:
            os.kill(pid, signal.SIGKILL)   # its core stops once the control socket closes
        except ProcessLookupError:
            continue
        done.append("warrend %d of %s" % (pid, m.group(1)))
    return done


def prune_shared_dirs():
    """With no system containerd and no other harness run alive, remove the
    empty dirs that containerd, its shims, ctr and CNI make in the shared
    host dirs (/run/containerd/{s,fifo,runc}, /var/lib/cni/results, ...)
    whoever made them; nothing that holds a file is touched."""
    if os.path.exists("/run/containerd/containerd.sock"):
        return
    for p in sorted(snapshot_paths(HOST_DIRS), key=len, reverse=True):
        if os.path.isdir(p) and not os.path.islink(p):
            try:
                os.rmdir(p)
            except OSError:
                pass
