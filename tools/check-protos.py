#!/usr/bin/python3
# check-protos.py — prove warren's proto/ declarations are wire-compatible with
# the upstream containerd / cgroups / CRI v1 .proto files they mirror.
#
# usage: /usr/bin/python3 tools/check-protos.py
#
# Both trees are compiled (grpc_tools' protoc) into FileDescriptorSets.  Every
# message and enum declared under proto/ (except ttrpc/, whose upstream is not
# in the reference tree and which tests/unit checks byte for byte, and warren/,
# warren's own operator API) must exist
# in the reference under the same full name with the same fields: name, number,
# type, label, type_name, oneof, proto3 optional, packing, map-ness; fields the
# reference has and warren lacks count too.  Enums need the same value names
# and numbers.  Services need every declared method with the same input and
# output types.  MIRRORS below also says which reference file each of our files
# stands for, so a message or rpc missing from ours is caught as well.
#
# The reference root is $WARREN_GOCODE_SRC (from /var/cache/warren-deps/env.sh
# when unset).  A few reference files need small patches before this protoc
# accepts them (PATCHES); patched copies in a temporary directory are used.
# Exits 1 and lists every mismatch; otherwise prints one summary line.
import os
import re
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2
from grpc_tools import protoc

ENV_SH = "/var/cache/warren-deps/env.sh"
WKT_INCLUDE = "/usr/include"
CD = "github.com/containerd/containerd/api/"
CG = "github.com/containerd/cgroups/v3/"
CRI = "k8s.io/cri-api/pkg/apis/runtime/v1/api.proto"

# our file (relative to proto/) → (reference file, what of it we must declare):
# "all" = every message, enum, service and rpc; otherwise the full name of a
# message whose transitive closure we must declare.
MIRRORS = {
    "containerd/types/mount.proto": (CD + "types/mount.proto", "all"),
    "containerd/types/platform.proto": (CD + "types/platform.proto", "all"),
    "containerd/types/metrics.proto": (CD + "types/metrics.proto", "all"),
    "containerd/types/event.proto": (CD + "types/event.proto", "all"),
    "containerd/types/task/task.proto": (CD + "types/task/task.proto", "all"),
    "containerd/runtime/sandbox/v1/sandbox.proto": (CD + "runtime/sandbox/v1/sandbox.proto", "all"),
    "containerd/task/v3/shim.proto": (CD + "runtime/task/v3/shim.proto", "all"),
    "containerd/task/v2/shim.proto": (CD + "runtime/task/v2/shim.proto", "all"),
    "containerd/events/task.proto": (CD + "events/task.proto", "all"),
    "containerd/services/events/ttrpc/v1/events.proto": (CD + "services/ttrpc/events/v1/events.proto", "all"),
    "containerd/runc/options/oci.proto": (CD + "types/runc/options/oci.proto", "all"),
    "cgroups/v1/metrics.proto": (CG + "cgroup1/stats/metrics.proto", "all"),
    "cgroups/v2/metrics.proto": (CG + "cgroup2/stats/metrics.proto", "all"),
    "cri/runtime/v1/pod_sandbox_config.proto": (CRI, ".runtime.v1.PodSandboxConfig"),
}
# What this protoc (3.21) rejects in the reference files, none of it affecting
# messages: CRI's [debug_redact = true] field option (newer than 3.21), and
# `optional` on the proto3 extensions in containerd's fieldpath.proto.
PATCHES = [
    (CRI, r"\s*\[\s*debug_redact\s*=\s*true\s*\]", ""),
    (CD + "types/fieldpath.proto", r"(?m)^(\s*)optional\s+(bool\s+fieldpath)", r"\1\2"),
]
# Files under proto/ that have no upstream in the reference tree.
UNMIRRORED = {"ttrpc/ttrpc.proto", "warren/control/v1/control.proto"}

FD = descriptor_pb2.FieldDescriptorProto
TYPE_NAMES = {v: k[len("TYPE_"):].lower() for k, v in FD.Type.items()}
LABEL_NAMES = {v: k[len("LABEL_"):].lower() for k, v in FD.Label.items()}


def env_value(name):
    if os.environ.get(name):
        return os.environ[name]
    if os.path.exists(ENV_SH):
        out = subprocess.run(["bash", "-c", f'. "{ENV_SH}" && printf %s "${name}"'],
                             capture_output=True, text=True, check=False).stdout
        if out:
            return out
    return None


def compile_set(includes, files, out):
    args = ["protoc"] + [f"-I{i}" for i in includes] + [
        "--include_imports", f"--descriptor_set_out={out}"] + files
    if protoc.main(args) != 0:
        sys.exit(f"check-protos: protoc failed on {' '.join(files)}")
    fds = descriptor_pb2.FileDescriptorSet()
    with open(out, "rb") as f:
        fds.ParseFromString(f.read())
    return fds


class Index:
    """Messages, enums and services of a FileDescriptorSet by full name."""

    def __init__(self, fds):
        self.messages, self.enums, self.services, self.file_of = {}, {}, {}, {}
        self.files = {f.name: f for f in fds.file}
        for f in fds.file:
            pkg = "." + f.package if f.package else ""
            self._walk(f.name, pkg, f.message_type, f.enum_type)
            for s in f.service:
                self.services[f"{pkg}.{s.name}"] = s
                self.file_of[f"{pkg}.{s.name}"] = f.name

    def _walk(self, fname, prefix, messages, enums):
        for e in enums:
            self.enums[f"{prefix}.{e.name}"] = e
            self.file_of[f"{prefix}.{e.name}"] = fname
        for m in messages:
            full = f"{prefix}.{m.name}"
            self.messages[full] = m
            self.file_of[full] = fname
            self._walk(fname, full, m.nested_type, m.enum_type)

    def declared_in(self, fname):
        return sorted(n for n, f in self.file_of.items() if f == fname)

    def closure(self, root):
        seen, todo = set(), [root]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            m = self.messages.get(name)
            if m is not None:
                todo.extend(f.type_name for f in m.field if f.type_name)
        return seen


def describe(f, msg):
    oneof = msg.oneof_decl[f.oneof_index].name if f.HasField("oneof_index") else None
    return {
        "number": f.number,
        "type": TYPE_NAMES[f.type],
        "label": LABEL_NAMES[f.label],
        "type_name": f.type_name or None,
        "oneof": None if f.proto3_optional else oneof,
        "proto3_optional": f.proto3_optional,
        "packed": f.options.packed if f.options.HasField("packed") else None,
    }


def compare_message(name, ours, ref, errors):
    if ours.options.map_entry != ref.options.map_entry:
        errors.append(f"message {name}: map entry {ours.options.map_entry}, reference {ref.options.map_entry}")
    ref_fields = {f.name: f for f in ref.field}
    our_fields = {f.name: f for f in ours.field}
    for fname, f in our_fields.items():
        if fname not in ref_fields:
            errors.append(f"message {name}: field {fname} = {f.number} not in reference")
            continue
        a, b = describe(f, ours), describe(ref_fields[fname], ref)
        for key in a:
            if a[key] != b[key]:
                errors.append(f"message {name}: field {fname}: {key} {a[key]}, reference {b[key]}")
    for fname, f in ref_fields.items():
        if fname not in our_fields:
            errors.append(f"message {name}: field {fname} = {f.number} missing (reference has it)")


def compare_enum(name, ours, ref, errors):
    a = {v.name: v.number for v in ours.value}
    b = {v.name: v.number for v in ref.value}
    for vname in sorted(set(a) | set(b)):
        if a.get(vname) != b.get(vname):
            errors.append(f"enum {name}: value {vname} = {a.get(vname)}, reference {b.get(vname)}")


def compare_service(name, ours, ref, errors):
    ref_methods = {m.name: m for m in ref.method}
    for m in ours.method:
        r = ref_methods.get(m.name)
        if r is None:
            errors.append(f"service {name}: rpc {m.name} not in reference")
            continue
        for key in ("input_type", "output_type", "client_streaming", "server_streaming"):
            if getattr(m, key) != getattr(r, key):
                errors.append(f"service {name}: rpc {m.name}: {key} {getattr(m, key)}, "
                              f"reference {getattr(r, key)}")


def main():
    repo = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    proto_dir = os.path.join(repo, "proto")
    gocode = env_value("WARREN_GOCODE_SRC")
    version = env_value("WARREN_CONTAINERD_VERSION") or "?"
    if not gocode or not os.path.isdir(gocode):
        sys.exit("check-protos: reference tree not found; set WARREN_GOCODE_SRC "
                 f"or provide {ENV_SH} (tools/fetch-newer-debs.sh)")

    ours_files = sorted(os.path.relpath(os.path.join(d, f), proto_dir)
                        for d, _, fs in os.walk(proto_dir) for f in fs if f.endswith(".proto"))
    errors = []
    for f in ours_files:
        if f not in MIRRORS and f not in UNMIRRORED:
            errors.append(f"file {f}: no reference file known (add it to MIRRORS in {sys.argv[0]})")
    checked = [f for f in ours_files if f in MIRRORS]

    with tempfile.TemporaryDirectory() as tmp:
        # Patched copies, found before the originals on the include path.
        for path, pattern, repl in PATCHES:
            copy = os.path.join(tmp, "patched", path)
            os.makedirs(os.path.dirname(copy), exist_ok=True)
            with open(os.path.join(gocode, path)) as f:
                text, n = re.subn(pattern, repl, f.read())
            if n == 0:
                errors.append(f"reference {path}: patch {pattern!r} no longer applies")
            with open(copy, "w") as f:
                f.write(text)

        ours = Index(compile_set([proto_dir, WKT_INCLUDE], checked, os.path.join(tmp, "ours.pb")))
        ref_files = sorted({MIRRORS[f][0] for f in checked})
        ref = Index(compile_set(
            [os.path.join(tmp, "patched"), gocode, WKT_INCLUDE,
             os.path.join(gocode, "github.com/gogo/protobuf/protobuf")],
            ref_files, os.path.join(tmp, "ref.pb")))

    counts = {"messages": 0, "enums": 0, "services": 0, "fields": 0, "rpcs": 0}
    for fname in checked:
        our_file = ours.files[fname]
        ref_name, scope = MIRRORS[fname]
        ref_file = ref.files[ref_name]
        if our_file.package != ref_file.package:
            errors.append(f"file {fname}: package {our_file.package}, reference {ref_file.package}")
        if our_file.syntax != ref_file.syntax:
            errors.append(f"file {fname}: syntax {our_file.syntax!r}, reference {ref_file.syntax!r}")

        declared = ours.declared_in(fname)
        for name in declared:
            if name in ours.messages:
                if name not in ref.messages:
                    errors.append(f"message {name} ({fname}): not in reference")
                    continue
                compare_message(name, ours.messages[name], ref.messages[name], errors)
                counts["messages"] += 1
                counts["fields"] += len(ours.messages[name].field)
            elif name in ours.enums:
                if name not in ref.enums:
                    errors.append(f"enum {name} ({fname}): not in reference")
                    continue
                compare_enum(name, ours.enums[name], ref.enums[name], errors)
                counts["enums"] += 1
            else:
                if name not in ref.services:
                    errors.append(f"service {name} ({fname}): not in reference")
                    continue
                compare_service(name, ours.services[name], ref.services[name], errors)
                counts["services"] += 1
                counts["rpcs"] += len(ours.services[name].method)
            if name in ref.file_of and ref.file_of[name] != ref_name:
                errors.append(f"{name} ({fname}): reference declares it in "
                              f"{ref.file_of[name]}, not {ref_name}")

        # Completeness: what the mirrored reference file (or closure) has, we have.
        if scope == "all":
            wanted = set(ref.declared_in(ref_name))
            for s in ref.files[ref_name].service:
                full = f".{ref_file.package}.{s.name}"
                if full in ours.services:
                    have = {m.name for m in ours.services[full].method}
                    for m in s.method:
                        if m.name not in have:
                            errors.append(f"service {full}: rpc {m.name} missing (reference has it)")
        else:
            wanted = {n for n in ref.closure(scope) if not n.startswith(".google.protobuf.")}
        for name in sorted(wanted - set(declared)):
            errors.append(f"{name}: in {ref_name} ({scope}) but not declared in {fname}")

    for e in errors:
        print("protos: MISMATCH " + e)
    if errors:
        print(f"protos: {len(errors)} mismatches against containerd {version} / CRI v1")
        return 1
    print(f"protos: {counts['messages']} messages ({counts['fields']} fields), {counts['enums']} enums, "
          f"{counts['services']} services ({counts['rpcs']} rpcs) match containerd {version} / CRI v1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
