# cri.py — the e2e tests' CRI client: generates Python gRPC stubs from the
# CRI api.proto (k8s.io/cri-api, from the containerd deps unpacked by
# tools/fetch-newer-debs.sh) into a build directory at test time, and wraps
# the RuntimeService/ImageService calls the tests use in a small class.
#
# The proto is copied with its `[debug_redact = true]` field options stripped
# (the protoc bundled with Debian 12's grpc-tools predates them) and compiled
# with `/usr/bin/python3 -m grpc_tools.protoc`; gogo.proto is on the include
# path for CRI versions that still import it.  Stubs are regenerated only when
# the proto or this file changes.
import hashlib
import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

GEN_VERSION = "1"
_mods = None

NS_MODES = {"POD": 0, "CONTAINER": 1, "NODE": 2, "TARGET": 3}
CONTAINER_STATES = {0: "CONTAINER_CREATED", 1: "CONTAINER_RUNNING",
                    2: "CONTAINER_EXITED", 3: "CONTAINER_UNKNOWN"}
SANDBOX_STATES = {0: "SANDBOX_READY", 1: "SANDBOX_NOTREADY"}


def ensure_stubs(out_dir, gocode_src):
    """Generate (if stale) and import the CRI stubs; returns (pb2, pb2_grpc)."""
    global _mods
    if _mods:
        return _mods
    proto = os.path.join(gocode_src, "k8s.io/cri-api/pkg/apis/runtime/v1/api.proto")
    if not os.path.isfile(proto):
        raise RuntimeError("CRI proto %s missing (run `make deps`)" % proto)
    with open(proto) as f:
        text = f.read()
    with open(os.path.abspath(__file__), "rb") as f:
        me = f.read()
    key = hashlib.sha256(text.encode() + me + GEN_VERSION.encode()).hexdigest()
    os.makedirs(out_dir, exist_ok=True)
    stamp = os.path.join(out_dir, ".stamp")
    have = open(stamp).read().strip() if os.path.exists(stamp) else ""
    if have != key:
        # Generate in a private dir, then rename into place: a concurrent
        # run never imports a half-written module.
        tmp = tempfile.mkdtemp(prefix=".gen-", dir=out_dir)
        try:
            stripped = re.sub(r"\s*\[\s*debug_redact\s*=\s*true\s*\]", "", text)
            with open(os.path.join(tmp, "cri_api.proto"), "w") as f:
                f.write(stripped)
            incs = ["-I" + tmp]
            for d in (os.path.join(gocode_src, "github.com/gogo/protobuf"), gocode_src,
                      "/usr/include"):
                if os.path.isdir(d):
                    incs.append("-I" + d)
            cmd = ["/usr/bin/python3", "-m", "grpc_tools.protoc", *incs,
                   "--python_out=" + tmp, "--grpc_python_out=" + tmp,
                   os.path.join(tmp, "cri_api.proto")]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError("protoc failed: %s\n%s" % (" ".join(cmd), r.stderr))
            for n in ("cri_api.proto", "cri_api_pb2.py", "cri_api_pb2_grpc.py"):
                os.replace(os.path.join(tmp, n), os.path.join(out_dir, n))
            with open(os.path.join(tmp, "stamp"), "w") as f:
                f.write(key + "\n")
            os.replace(os.path.join(tmp, "stamp"), stamp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if out_dir not in sys.path:
        sys.path.insert(0, out_dir)
    pb2 = importlib.import_module("cri_api_pb2")
    pb2_grpc = importlib.import_module("cri_api_pb2_grpc")
    _mods = (pb2, pb2_grpc)
    return _mods


class CRI:
    """A CRI client over a unix socket.  Every call has a deadline; errors are
    grpc.RpcError (use .code() and .details()).  Sandbox and container ids it
    creates are reported to on_id (the harness uses them to recognise shim
    sockets and CNI results left behind)."""

    def __init__(self, socket_path, pb2, pb2_grpc, timeout=60, on_id=None):
        import grpc
        self.grpc = grpc
        self.pb = pb2
        self.timeout = timeout
        self.on_id = on_id
        self.channel = grpc.insecure_channel("unix://" + socket_path)
        self.rt = pb2_grpc.RuntimeServiceStub(self.channel)
        self.img = pb2_grpc.ImageServiceStub(self.channel)

    def close(self):
        self.channel.close()

    def _t(self, timeout):
        return self.timeout if timeout is None else timeout

    # ---- runtime ------------------------------------------------------------
    def version(self, timeout=None):
        return self.rt.Version(self.pb.VersionRequest(), timeout=self._t(timeout))

    def wait_ready(self, deadline_s=30):
        """Call Version until it answers; returns it or raises the last error."""
        end = time.monotonic() + deadline_s
        while True:
            try:
                return self.version(timeout=2)
            except self.grpc.RpcError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.1)

    def namespace_options(self, network="POD", pid="CONTAINER", ipc="POD"):
        return self.pb.NamespaceOption(network=NS_MODES[network], pid=NS_MODES[pid],
                                       ipc=NS_MODES[ipc])

    def pod_config(self, name, namespace="e2e", uid=None, hostname=None, dns=None,
                   log_dir=None, cgroup_parent=None, network="POD", pid="CONTAINER",
                   ipc="POD", labels=None, annotations=None, attempt=0, privileged=False,
                   port_mappings=None, sysctls=None):
        """port_mappings: [{"container_port", "host_port", "protocol" (TCP,
        UDP, SCTP; default TCP), "host_ip"}]; sysctls: {name: value}."""
        pb = self.pb
        cfg = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=name, uid=uid or uuid.uuid4().hex,
                                           namespace=namespace, attempt=attempt),
            hostname=hostname or "",
            log_directory=log_dir or "",
            labels=labels or {},
            annotations=annotations or {},
            linux=pb.LinuxPodSandboxConfig(
                cgroup_parent=cgroup_parent or "",
                security_context=pb.LinuxSandboxSecurityContext(
                    privileged=privileged,
                    namespace_options=self.namespace_options(network, pid, ipc))))
        for m in port_mappings or []:
            cfg.port_mappings.append(pb.PortMapping(
                protocol=pb.Protocol.Value(m.get("protocol", "TCP")),
                container_port=m["container_port"], host_port=m.get("host_port", 0),
                host_ip=m.get("host_ip", "")))
        for k, v in (sysctls or {}).items():
            cfg.linux.sysctls[k] = v
        if dns:
            cfg.dns_config.CopyFrom(pb.DNSConfig(servers=dns.get("servers", []),
                                                 searches=dns.get("searches", []),
                                                 options=dns.get("options", [])))
        return cfg

    def run_pod(self, name, handler, timeout=None, **kw):
        """RunPodSandbox; returns (pod_id, PodSandboxConfig)."""
        cfg = self.pod_config(name, **kw)
        r = self.rt.RunPodSandbox(self.pb.RunPodSandboxRequest(config=cfg, runtime_handler=handler),
                                  timeout=self._t(timeout))
        if self.on_id:
            self.on_id(r.pod_sandbox_id)
        return r.pod_sandbox_id, cfg

    def pod_status(self, pod_id, verbose=False, timeout=None):
        return self.rt.PodSandboxStatus(
            self.pb.PodSandboxStatusRequest(pod_sandbox_id=pod_id, verbose=verbose),
            timeout=self._t(timeout)).status

    def pod_state(self, pod_id):
        return SANDBOX_STATES.get(self.pod_status(pod_id).state, "?")

    def stop_pod(self, pod_id, timeout=None):
        self.rt.StopPodSandbox(self.pb.StopPodSandboxRequest(pod_sandbox_id=pod_id),
                               timeout=self._t(timeout))

    def remove_pod(self, pod_id, timeout=None):
        self.rt.RemovePodSandbox(self.pb.RemovePodSandboxRequest(pod_sandbox_id=pod_id),
                                 timeout=self._t(timeout))

    def list_pods(self, timeout=None):
        return list(self.rt.ListPodSandbox(self.pb.ListPodSandboxRequest(),
                                           timeout=self._t(timeout)).items)

    def create_container(self, pod_id, pod_config, name, image, command=None, args=None,
                         log_path=None, env=None, workdir=None, tty=False, stdin=False,
                         network="POD", pid="CONTAINER", ipc="POD", labels=None,
                         tweak=None, timeout=None):
        """CreateContainer; tweak(cfg, pb), if given, edits the ContainerConfig
        (security context, resources, mounts) before it is sent."""
        pb = self.pb
        cfg = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name=name),
            image=pb.ImageSpec(image=image),
            command=command or [],
            args=args or [],
            working_dir=workdir or "",
            envs=[pb.KeyValue(key=k, value=v) for k, v in (env or {}).items()],
            log_path=log_path or "",
            tty=tty, stdin=stdin,
            labels=labels or {},
            linux=pb.LinuxContainerConfig(
                security_context=pb.LinuxContainerSecurityContext(
                    namespace_options=self.namespace_options(network, pid, ipc))))
        if tweak:
            tweak(cfg, pb)
        r = self.rt.CreateContainer(pb.CreateContainerRequest(
            pod_sandbox_id=pod_id, config=cfg, sandbox_config=pod_config),
            timeout=self._t(timeout))
        if self.on_id:
            self.on_id(r.container_id)
        return r.container_id

    def update_resources(self, cid, timeout=None, **resources):
        """UpdateContainerResources with LinuxContainerResources(**resources)."""
        self.rt.UpdateContainerResources(self.pb.UpdateContainerResourcesRequest(
            container_id=cid, linux=self.pb.LinuxContainerResources(**resources)),
            timeout=self._t(timeout))

    def start(self, cid, timeout=None):
        self.rt.StartContainer(self.pb.StartContainerRequest(container_id=cid),
                               timeout=self._t(timeout))

    def stop(self, cid, grace=0, timeout=None):
        self.rt.StopContainer(self.pb.StopContainerRequest(container_id=cid, timeout=grace),
                              timeout=self._t(timeout))

    def remove(self, cid, timeout=None):
        self.rt.RemoveContainer(self.pb.RemoveContainerRequest(container_id=cid),
                                timeout=self._t(timeout))

    def status(self, cid, verbose=False, timeout=None):
        return self.rt.ContainerStatus(
            self.pb.ContainerStatusRequest(container_id=cid, verbose=verbose),
            timeout=self._t(timeout)).status

    def state(self, cid):
        return CONTAINER_STATES.get(self.status(cid).state, "?")

    def wait_state(self, cid, want, deadline_s=20):
        end = time.monotonic() + deadline_s
        while True:
            st = self.state(cid)
            if st == want or time.monotonic() > end:
                return st
            time.sleep(0.1)

    def list_containers(self, pod_id=None, timeout=None):
        f = self.pb.ContainerFilter(pod_sandbox_id=pod_id or "")
        return list(self.rt.ListContainers(self.pb.ListContainersRequest(filter=f),
                                           timeout=self._t(timeout)).containers)

    def exec_sync(self, cid, cmd, exec_timeout=20, timeout=None):
        """ExecSync; returns (exit_code, stdout bytes, stderr bytes)."""
        r = self.rt.ExecSync(self.pb.ExecSyncRequest(container_id=cid, cmd=cmd,
                                                     timeout=exec_timeout),
                             timeout=self._t(timeout) + exec_timeout)
        return r.exit_code, r.stdout, r.stderr

    def out(self, cid, cmd):
        """ExecSync that must exit 0; returns stdout as stripped text."""
        code, out, err = self.exec_sync(cid, cmd)
        if code != 0:
            raise AssertionError("exec %r in %s: exit %d, stderr %r" % (cmd, cid[:12], code, err))
        return out.decode().strip()

    # ---- images ---------------------------------------------------------------
    def list_images(self, timeout=None):
        return list(self.img.ListImages(self.pb.ListImagesRequest(),
                                        timeout=self._t(timeout)).images)

    # ---- cleanup ----------------------------------------------------------------
    def remove_everything(self):
        """Best effort: stop and remove every container and pod.  Returns the
        errors met (strings)."""
        errs = []
        try:
            ctrs = self.list_containers(timeout=20)
        except self.grpc.RpcError as e:
            return ["ListContainers: %s" % e.details()]
        for c in ctrs:
            for fn in (lambda: self.stop(c.id, 0, timeout=30), lambda: self.remove(c.id, timeout=30)):
                try:
                    fn()
                except self.grpc.RpcError as e:
                    errs.append("container %s: %s" % (c.id[:12], e.details()))
        try:
            pods = self.list_pods(timeout=20)
        except self.grpc.RpcError as e:
            return errs + ["ListPodSandbox: %s" % e.details()]
        for p in pods:
            for fn in (lambda: self.stop_pod(p.id, timeout=60), lambda: self.remove_pod(p.id, timeout=60)):
                try:
                    fn()
                except self.grpc.RpcError as e:
                    errs.append("pod %s: %s" % (p.id[:12], e.details()))
        return errs
