# syscall_summary.py — where a process's wall time goes, by system call:
# `perf trace -s -p PID` (syscall tracepoints, no ptrace stops) for the
# length of a phase, parsed into {syscall: (calls, errors, total ms, max ms)}.
# Used by tests/bench/bench_pods.py on warrend's core during the profile
# phase; optional (perf is not in tools/install-deps.sh; without it, or where
# perf cannot attach, available() is False or stop() returns {}).
import re
import shutil
import signal
import subprocess
import time

PERF = shutil.which("perf") or ""
ROW = re.compile(r"^\s+(\w+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)")


class SyscallSummary:
    def __init__(self, pid, out_path):
        self.pid, self.path, self.proc = pid, out_path, None

    @staticmethod
    def available():
        return bool(PERF)

    def start(self):
        self.proc = subprocess.Popen([PERF, "trace", "-s", "-p", str(self.pid), "-o", self.path],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        time.sleep(0.5)  # attach
        if self.proc.poll() is not None:
            err = self.proc.stderr.read().decode(errors="replace").strip()
            self.proc = None
            raise RuntimeError("perf trace -p %d: %s" % (self.pid, err[:300]))

    def stop(self):
        """Stop tracing; returns {syscall: {calls, errors, total_ms, max_ms}}."""
        if not self.proc:
            return {}
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        out = {}
        try:
            with open(self.path, errors="replace") as f:
                for line in f:
                    m = ROW.match(line)
                    if not m:
                        continue
                    name = m.group(1)
                    d = out.setdefault(name, {"calls": 0, "errors": 0, "total_ms": 0.0, "max_ms": 0.0})
                    d["calls"] += int(m.group(2))
                    d["errors"] += int(m.group(3))
                    d["total_ms"] += float(m.group(4))
                    d["max_ms"] = max(d["max_ms"], float(m.group(7)))
        except OSError:
            pass
        return out
