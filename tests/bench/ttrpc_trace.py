# ttrpc_trace.py — per-call wall times of warrend, seen from outside: strace
# attached to warrend's front process (the one containerd's connections
# reach) records every recvfrom/sendto with its bytes; the ttrpc frames in
# them are reassembled per fd and direction, requests (type 1) read from a
# connection are paired with the responses (type 2) written back on it with
# the same stream id.  An arrival is when the recvfrom holding the request's
# first byte returned, a reply when the sendto holding the response's last
# byte was entered (CLOCK_REALTIME, µs, as time.time()).
#
# Only the front is traced (its core, which does the work, is not), so the
# ptrace stops cost the front a few syscalls' worth per call; the bench
# reports the traced pods' start latency next to the untraced ones.
#
# Used by tests/bench/bench_pods.py; needs strace (optional: Tracer.available).
import os
import re
import shutil
import signal
import struct
import subprocess
import time

STRACE = shutil.which("strace") or ""
LINE = re.compile(r'^(\d+\.\d+) (recvfrom|sendto)\((\d+), "((?:\\x[0-9a-f]{2})*)"(\.\.\.)?,.*\) = (-?\d+)')
REQUEST, RESPONSE = 1, 2


def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if c < 0x80:
            return v, i
        shift += 7


def request_method(payload):
    """(service, method) of a ttrpc Request message (fields 1 and 2)."""
    service = method = "?"
    i = 0
    try:
        while i < len(payload):
            key, i = varint(payload, i)
            field, wt = key >> 3, key & 7
            if wt == 2:
                n, i = varint(payload, i)
                val = payload[i:i + n]
                i += n
                if field == 1:
                    service = val.decode(errors="replace")
                elif field == 2:
                    method = val.decode(errors="replace")
            elif wt == 0:
                _, i = varint(payload, i)
            elif wt == 1:
                i += 8
            elif wt == 5:
                i += 4
            else:
                break
    except IndexError:
        pass
    return service, method


class Call:
    __slots__ = ("fd", "stream", "service", "method", "arrival", "reply")

    def __init__(self, fd, stream, service, method, arrival):
        self.fd, self.stream, self.service, self.method = fd, stream, service, method
        self.arrival, self.reply = arrival, None

    @property
    def name(self):
        return "%s.%s" % (self.service.rsplit(".", 1)[-1], self.method)

    @property
    def dur(self):
        return None if self.reply is None else self.reply - self.arrival


def parse(path):
    """Calls (list of Call, arrival order) and the count of fds whose byte
    stream could not be followed (a truncated buffer)."""
    bufs = {}    # (fd, dir) -> [bytearray, time of the first byte of what is buffered]
    lost = set()
    pending = {}  # (fd, stream) -> Call
    calls = []
    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            t, sc, fd, hexs, trunc, ret = m.groups()
            t, fd, ret = float(t), int(fd), int(ret)
            if ret <= 0:
                continue
            key = (fd, sc)
            if trunc or key in lost:
                lost.add(key)
                continue
            data = bytes.fromhex(hexs.replace("\\x", ""))[:ret]
            b = bufs.setdefault(key, [bytearray(), t])
            if not b[0]:
                b[1] = t
            b[0] += data
            while len(b[0]) >= 10:
                n, stream = struct.unpack(">II", b[0][:8])
                typ = b[0][8]
                if len(b[0]) < 10 + n:
                    break
                payload = bytes(b[0][10:10 + n])
                start = b[1]
                del b[0][:10 + n]
                b[1] = t
                if sc == "recvfrom" and typ == REQUEST:
                    service, method = request_method(payload)
                    c = Call(fd, stream, service, method, start)
                    pending[(fd, stream)] = c
                    calls.append(c)
                elif sc == "sendto" and typ == RESPONSE:
                    c = pending.pop((fd, stream), None)
                    if c is not None:
                        c.reply = t
    return calls, len(lost)


class Tracer:
    """strace -p PID on recvfrom/sendto into a file, until stop()."""

    def __init__(self, pid, out_path):
        self.pid, self.path, self.proc = pid, out_path, None

    @staticmethod
    def available():
        return bool(STRACE)

    def start(self):
        self.proc = subprocess.Popen(
            [STRACE, "-qq", "-ttt", "-e", "trace=recvfrom,sendto", "-e", "signal=none",
             "-xx", "-s", "1048576", "-o", self.path, "-p", str(self.pid)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Attached once the output file exists and strace is still there.
        end = time.monotonic() + 5
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("strace -p %d: %s" % (self.pid, self.proc.stderr.read().decode().strip()))
            if os.path.exists(self.path):
                time.sleep(0.2)
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("strace -p %d did not start" % self.pid)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # detaches from the tracee
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
