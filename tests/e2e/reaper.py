# reaper.py — runs the e2e harness's private containerd under a child
# subreaper, so every process containerd starts (shims that double-fork,
# warrend, container processes whose shim died) stays a descendant of this
# process: the harness finds "its" processes by ancestry, never by name.
#
# usage: reaper.py PIDFILE PROGRAM [ARGS...]
# Starts PROGRAM, writes its pid to PIDFILE, reaps every child and orphan that
# is reparented here, and exits once PROGRAM and every descendant are gone,
# with PROGRAM's exit status (128+signal if it was killed).  SIGTERM and
# SIGINT are ignored here: the harness signals containerd and the leftovers by
# pid itself.  If the harness dies first (this process is reparented), it
# SIGTERMs PROGRAM, SIGKILLs every descendant left after 5 s and exits; the
# next harness run reclaims the mounts, cgroups and directories.
#
# Restart: when PROGRAM exits while the file PIDFILE.restart exists, the file
# is removed and PROGRAM is started again (new pid in PIDFILE), the way a
# service manager restarts containerd; its other descendants stay as they are.
import ctypes
import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: reaper.py PIDFILE PROGRAM [ARGS...]\n")
        return 2
    pidfile, argv = sys.argv[1], sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.stderr.write("reaper: prctl(PR_SET_CHILD_SUBREAPER): %s\n"
                         % os.strerror(ctypes.get_errno()))
        return 2
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pid = spawn(argv, pidfile)
    parent = os.getppid()
    status = 0
    orphaned_at = None
    while True:
        try:
            wpid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if wpid == pid:
            status = os.waitstatus_to_exitcode(st)
            if status < 0:
                status = 128 - status
            if os.path.exists(pidfile + ".restart"):
                os.unlink(pidfile + ".restart")
                pid = spawn(argv, pidfile)
        if wpid:
            continue
        if os.getppid() != parent:
            now = time.monotonic()
            if orphaned_at is None:
                orphaned_at = now
                sys.stderr.write("reaper: harness %d is gone, stopping everything\n" % parent)
                kill([pid], signal.SIGTERM)
            elif now - orphaned_at > 5:
                kill(descendants(os.getpid()), signal.SIGKILL)
        time.sleep(0.05)
    return status


def spawn(argv, pidfile):
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            os.execvp(argv[0], argv)
        except OSError as e:
            sys.stderr.write("reaper: exec %s: %s\n" % (argv[0], e))
        os._exit(127)
    tmp = pidfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % pid)
    os.rename(tmp, pidfile)
    return pid


def kill(pids, sig):
    for p in pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


def descendants(root):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


if __name__ == "__main__":
    sys.exit(main())
