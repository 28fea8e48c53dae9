#!/usr/bin/env bash
# tools/build-test-images.sh — build the OCI image tarballs the e2e tests
# import into containerd, from Debian's busybox-static, with no registry.
#
# usage: tools/build-test-images.sh OUTDIR
#
# Writes, reproducibly (fixed mtimes, owners and order, uncompressed layers):
#   OUTDIR/busybox.tar   warren.test/busybox:latest   /bin/busybox + applet links,
#                        /etc/passwd+group (root, nobody, user 1000), /tmp, ...
#   OUTDIR/pause.tar     warren.test/pause:latest     same layer; entrypoint sleeps
#                        until SIGTERM/SIGINT (sandbox image for the runc handler)
#   OUTDIR/badentry.tar  warren.test/badentry:latest  same layer; entrypoint
#                        /bin/does-not-exist (for the error-path tests)
# Each tarball is an OCI image layout (oci-layout, index.json, blobs/sha256/…)
# that `ctr images import` takes as is; index.json names the image with the
# io.containerd.image.name and org.opencontainers.image.ref.name annotations.
# Prints one "NAME PATH" line per image.  Re-running with the same busybox
# binary and the same script is a no-op (OUTDIR/.key holds the content key).
set -euo pipefail

die() { printf 'build-test-images: error: %s\n' "$*" >&2; exit 1; }

out=${1:-}
[[ -n $out ]] || die "usage: $0 OUTDIR"
busybox=${WARREN_BUSYBOX:-/bin/busybox}
[[ -x $busybox ]] || die "$busybox missing (apt-get install busybox-static)"
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	die "$busybox is not statically linked (needs Debian's busybox-static)"
py=/usr/bin/python3
[[ -x $py ]] || die "$py missing"

mkdir -p "$out"
out=$(cd "$out" && pwd)
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
self=$(readlink -f "${BASH_SOURCE[0]}")
key=$(cat "$self" "$busybox" | sha256sum | cut -d' ' -f1)-$arch
if [[ -f $out/.key && $(cat "$out/.key") == "$key" &&
	-f $out/busybox.tar && -f $out/pause.tar && -f $out/badentry.tar ]]; then
	for n in busybox pause badentry; do echo "warren.test/$n:latest $out/$n.tar"; done
	exit 0
fi
rm -f "$out/.key"

"$py" - "$out" "$busybox" "$arch" <<'PYEOF'
import hashlib, io, json, os, subprocess, sys, tarfile

out, busybox, arch = sys.argv[1], sys.argv[2], sys.argv[3]
oci_arch = {"amd64": "amd64", "arm64": "arm64", "armhf": "arm", "i386": "386",
            "ppc64el": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}.get(arch, arch)
MTIME = 946684800  # 2000-01-01T00:00:00Z, fixed for reproducibility
CREATED = "2000-01-01T00:00:00Z"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def tarinfo(name, kind, mode, size=0, link=""):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.size, ti.linkname = kind, mode, size, link
    ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = MTIME, 0, 0, "root", "root"
    return ti


def build_layer():
    with open(busybox, "rb") as f:
        bb = f.read()
    applets = subprocess.run([busybox, "--list-full"], check=True,
                             capture_output=True, text=True).stdout.split()
    files = {
        "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"
                      "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
                      "user:x:1000:1000:user:/home/user:/bin/sh\n",
        "etc/group": "root:x:0:\nnogroup:x:65534:\nnobody:x:65534:\nuser:x:1000:\n",
        "etc/hostname": "",
        "etc/hosts": "127.0.0.1\tlocalhost\n",
        "etc/resolv.conf": "",
    }
    dirs = {"bin": 0o755, "sbin": 0o755, "usr": 0o755, "usr/bin": 0o755,
            "usr/sbin": 0o755, "etc": 0o755, "tmp": 0o1777, "root": 0o700,
            "home": 0o755, "var": 0o755, "var/tmp": 0o1777, "run": 0o755,
            "proc": 0o555, "sys": 0o555, "dev": 0o755}
    entries = []  # (name, tarinfo, data)
    for d, mode in dirs.items():
        entries.append((d, tarinfo(d, tarfile.DIRTYPE, mode), None))
    entries.append(("home/user", tarinfo("home/user", tarfile.DIRTYPE, 0o755), None))
    entries[-1][1].uid = entries[-1][1].gid = 1000
    entries[-1][1].uname = entries[-1][1].gname = "user"
    entries.append(("bin/busybox", tarinfo("bin/busybox", tarfile.REGTYPE, 0o755, len(bb)), bb))
    for path, text in files.items():
        data = text.encode()
        entries.append((path, tarinfo(path, tarfile.REGTYPE, 0o644, len(data)), data))
    seen = {e[0] for e in entries}
    for a in applets:
        a = a.lstrip("/")
        if a in seen or "/" not in a or a.split("/")[0] not in ("bin", "sbin", "usr"):
            continue
        seen.add(a)
        entries.append((a, tarinfo(a, tarfile.SYMTYPE, 0o777, link="/bin/busybox"), None))
    entries.sort(key=lambda e: e[0])
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for _, ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def jbytes(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":")).encode()


def write_image(name, layer, entrypoint, cmd, tarpath):
    blobs = {}
    ld = digest(layer)
    blobs[ld] = layer
    cfg = {"created": CREATED, "architecture": oci_arch, "os": "linux",
           "config": {"Env": ["PATH=" + PATH], "WorkingDir": "/"},
           "rootfs": {"type": "layers", "diff_ids": [ld]},
           "history": [{"created": CREATED, "created_by": "tools/build-test-images.sh"}]}
    if entrypoint:
        cfg["config"]["Entrypoint"] = entrypoint
    if cmd:
        cfg["config"]["Cmd"] = cmd
    cb = jbytes(cfg)
    blobs[digest(cb)] = cb
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "digest": digest(cb), "size": len(cb)},
           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                       "digest": ld, "size": len(layer)}]}
    mb = jbytes(man)
    blobs[digest(mb)] = mb
    tag = name.rsplit(":", 1)[1]
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                            "digest": digest(mb), "size": len(mb),
                            "platform": {"architecture": oci_arch, "os": "linux"},
                            "annotations": {"io.containerd.image.name": name,
                                            "org.opencontainers.image.ref.name": tag}}]}
    files = [("oci-layout", jbytes({"imageLayoutVersion": "1.0.0"})),
             ("index.json", jbytes(index))]
    for d in sorted(blobs):
        files.append(("blobs/sha256/" + d.split(":", 1)[1], blobs[d]))
    tmp = tarpath + ".tmp"
    with tarfile.open(tmp, mode="w", format=tarfile.PAX_FORMAT) as t:
        for dname in ("blobs", "blobs/sha256"):
            t.addfile(tarinfo(dname, tarfile.DIRTYPE, 0o755))
        for fname, data in files:
            t.addfile(tarinfo(fname, tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))
    os.replace(tmp, tarpath)


layer = build_layer()
write_image("warren.test/busybox:latest", layer, None, ["sh"], os.path.join(out, "busybox.tar"))
write_image("warren.test/pause:latest", layer,
            ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait; done"],
            None, os.path.join(out, "pause.tar"))
write_image("warren.test/badentry:latest", layer, ["/bin/does-not-exist"], None,
            os.path.join(out, "badentry.tar"))
PYEOF

echo "$key" >"$out/.key"
for n in busybox pause badentry; do echo "warren.test/$n:latest $out/$n.tar"; done
