"""Engines the tests start themselves and remove after: a second dockerd inside a network
namespace (a stand-in for a remote host, reached over tcp on the namespace's address)
and Podman's Docker-compatible API service on a unix socket.

Everything is bounded in time, and everything made is removed again, also on failure:
the daemon and its children, its mounts and directories, the veth pair, the namespace.
Traffic goes only to the namespace's own /30.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 20.0
POLL_S = 0.25
# /30s picked from here, one per engine, skipping any already on the host.
SUBNET_POOL = ipaddress.ip_network("10.216.0.0/16")


def _run(cmd: Sequence[str], *, timeout: float = 60, check: bool = True) -> str:
    done = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()[:300]}")
    return done.stdout


def _host_networks() -> list[ipaddress.IPv4Network]:
    text = _run(["ip", "-4", "-o", "addr", "show"], check=False)
    found = []
    for line in text.splitlines():
        parts = line.split()
        if "inet" in parts:
            found.append(ipaddress.ip_interface(parts[parts.index("inet") + 1]).network)
    return found


def _free_subnet() -> ipaddress.IPv4Network:
    used = _host_networks()
    for _ in range(50):
        index = secrets.randbelow(SUBNET_POOL.num_addresses // 4)
        candidate = ipaddress.ip_network(f"{SUBNET_POOL.network_address + index * 4}/30")
        if not any(candidate.overlaps(net) for net in used):
            return candidate  # type: ignore[return-value]
    raise RuntimeError("no free /30 in 10.216.0.0/16")


def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(POLL_S)
    raise RuntimeError(f"{what} not ready within {timeout:.0f} s")


def _kill_all(pids: list[int], timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM processes we started (all at once), SIGKILL those left at one deadline."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    left = list(pids)
    while left and time.monotonic() < deadline:
        left = [pid for pid in left if _alive(pid)]
        if left:
            time.sleep(0.2)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Running: neither gone nor a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _umount_under(root: Path) -> None:
    """Unmount (lazily) whatever a daemon left mounted under ``root``, deepest first."""
    mounts = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        target = line.split()[1].replace("\\040", " ")
        if target == str(root) or target.startswith(str(root) + "/"):
            mounts.append(target)
    for target in sorted(mounts, key=len, reverse=True):
        _run(["umount", "-l", target], check=False, timeout=20)


def _log_tail(path: Path | None, lines: int) -> str:
    """The last ``lines`` lines of a log file, or "" when there is none (yet)."""
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _docker_answers(url: str) -> bool:
    """Whether the Docker API at ``url`` answers ``docker version`` within 10 s; a slow
    answer is no answer, so the caller's bounded wait asks again."""
    try:
        done = subprocess.run(
            ["docker", "-H", url, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def save_load(references: Sequence[str], docker_host: str, timeout: float = 300) -> float:
    """``docker save REFS | docker -H DOCKER_HOST load`` from the local engine; seconds."""
    started = time.monotonic()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    save = subprocess.Popen(
        ["docker", "-H", "unix:///var/run/docker.sock", "save", *references],
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        load = subprocess.run(
            ["docker", "-H", docker_host, "load", "-q"],
            stdin=save.stdout,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    finally:
        if save.stdout is not None:
            save.stdout.close()
        try:
            save.wait(timeout=30)
        except subprocess.TimeoutExpired:
            save.kill()
    if save.returncode != 0 or load.returncode != 0:
        raise RuntimeError(f"docker save | docker load failed: {load.stderr.strip()[:300]}")
    return time.monotonic() - started


@dataclass
class NetnsDockerd:
    """A dockerd in a network namespace of its own, reached at tcp://NS_ADDR:2375."""

    workdir: Path
    name: str = field(default_factory=lambda: f"ptc16-{secrets.token_hex(3)}")
    subnet: ipaddress.IPv4Network | None = None
    pid: int | None = None
    log_path: Path | None = None
    made: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def host_veth(self) -> str:
        return f"vh{self.name[-6:]}"

    @property
    def ns_veth(self) -> str:
        return f"vn{self.name[-6:]}"

    @property
    def host_address(self) -> str:
        assert self.subnet is not None
        return str(self.subnet.network_address + 1)

    @property
    def address(self) -> str:
        assert self.subnet is not None
        return str(self.subnet.network_address + 2)

    @property
    def url(self) -> str:
        return f"tcp://{self.address}:2375"

    @property
    def root(self) -> Path:
        return self.workdir / self.name

    def start(self) -> None:
        for tool in ("ip", "nsenter", "dockerd"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} not found")
        self.subnet = _free_subnet()
        _run(["ip", "netns", "add", self.name])
        self.made.append("netns")
        _run(["ip", "link", "add", self.host_veth, "type", "veth", "peer", "name", self.ns_veth])
        self.made.append("veth")
        _run(["ip", "link", "set", self.ns_veth, "netns", self.name])
        _run(["ip", "addr", "add", f"{self.host_address}/30", "dev", self.host_veth])
        _run(["ip", "link", "set", self.host_veth, "up"])
        ns = ["ip", "-n", self.name]
        _run([*ns, "addr", "add", f"{self.address}/30", "dev", self.ns_veth])
        _run([*ns, "link", "set", self.ns_veth, "up"])
        _run([*ns, "link", "set", "lo", "up"])
        for sub in ("data", "exec", "run"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.made.append("dirs")
        self.log_path = self.root / "dockerd.log"
        with self.log_path.open("wb") as log:
            daemon = self.process = subprocess.Popen(
                [
                    "nsenter",
                    f"--net=/var/run/netns/{self.name}",
                    "dockerd",
                    "-H",
                    self.url,
                    "-H",
                    f"unix://{self.root / 'run' / 'docker.sock'}",
                    "--data-root",
                    str(self.root / "data"),
                    "--exec-root",
                    str(self.root / "exec"),
                    "--pidfile",
                    str(self.root / "run" / "docker.pid"),
                    "--cgroup-parent",
                    f"/{self.name}",
                    "--bip",
                    "172.31.254.1/24",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = daemon.pid
        self.made.append("daemon")
        try:
            _wait(self._answers, START_TIMEOUT_S, f"dockerd at {self.url}")
        except RuntimeError as error:
            raise RuntimeError(f"{error}: {self.log_tail()}") from None

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"dockerd exited: {self.log_tail()}")
        return _docker_answers(self.url)

    def log_tail(self, lines: int = 15) -> str:
        return _log_tail(self.log_path, lines)

    def stop(self) -> list[str]:
        """Remove everything, in reverse; returns what could not be removed."""
        problems: list[str] = []
        if "daemon" in self.made:
            # Containers first, so no shim outlives the daemon.
            subprocess.run(
                f"docker -H {self.url} ps -aq | xargs -r docker -H {self.url} rm -f",
                shell=True,
                capture_output=True,
                timeout=60,
                check=False,
            )
            if self.pid is not None:
                _kill_all([self.pid])
            if self.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=5)
            # Whatever still runs in the namespace was started by this daemon.
            for pid in _run(["ip", "netns", "pids", self.name], check=False).split():
                _kill_all([int(pid)], timeout=5)
        if "dirs" in self.made:
            _umount_under(self.root)
            shutil.rmtree(self.root, ignore_errors=True)
            if self.root.exists():
                problems.append(f"directory {self.root} remains")
        if "veth" in self.made:
            _run(["ip", "link", "del", self.host_veth], check=False)
        if "netns" in self.made:
            _run(["ip", "netns", "del", self.name], check=False)
            if Path(f"/var/run/netns/{self.name}").exists():
                problems.append(f"namespace {self.name} remains")
        cgroups = list(Path("/sys/fs/cgroup").glob(f"*/{self.name}"))
        for path in cgroups:
            with contextlib.suppress(OSError):
                for child in sorted(path.glob("*"), reverse=True):
                    if child.is_dir():
                        child.rmdir()
                path.rmdir()
        return problems


@dataclass
class PodmanService:
    """``podman --runtime runc system service --time=0 unix://SOCK`` with its own storage."""

    workdir: Path
    pid: int | None = None
    log_path: Path | None = None
    # Podman refuses a runroot longer than 50 characters: a short one of our own.
    runroot: Path = field(default_factory=lambda: Path(f"/tmp/ptc16-{secrets.token_hex(4)}"))
    process: subprocess.Popen[bytes] | None = None
    # Podman writes these whatever --root says (netavark's state, the blob cache, locks):
    # the ones that did not exist before the service started are removed after it.
    SHARED_STATE = (
        "/run/containers",
        "/var/lib/containers",
        "/etc/containers/networks/netavark.lock",
        "/etc/cni/net.d/cni.lock",
    )
    preexisting: set[str] = field(default_factory=set)

    @property
    def root(self) -> Path:
        return self.workdir / "podman"

    @property
    def socket(self) -> Path:
        return self.runroot / "api.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def _podman(self) -> list[str]:
        return [
            "podman",
            "--runtime",
            "runc",
            "--root",
            str(self.root / "storage"),
            "--runroot",
            str(self.runroot),
            "--tmpdir",
            str(self.root / "tmp"),
        ]

    def start(self) -> None:
        if shutil.which("podman") is None:
            raise RuntimeError("podman not found (Debian: apt-get install podman)")
        self.preexisting = {path for path in self.SHARED_STATE if Path(path).exists()}
        for sub in ("storage", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.runroot.mkdir(mode=0o700)
        self.log_path = self.root / "service.log"
        with self.log_path.open("wb") as log:
            service = self.process = subprocess.Popen(
                [*self._podman(), "system", "service", "--time=0", self.url],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = service.pid
        try:
            _wait(self._answers, START_TIMEOUT_S, f"podman service at {self.url}")
        except RuntimeError as error:
            raise RuntimeError(f"{error}: {self.log_tail()}") from None

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"podman service exited: {self.log_tail()}")
        if not self.socket.exists():
            return False
        return _docker_answers(self.url)

    def log_tail(self, lines: int = 15) -> str:
        return _log_tail(self.log_path, lines)

    def stop(self) -> list[str]:
        problems: list[str] = []
        if self.pid is not None:
            subprocess.run(
                [*self._podman(), "rm", "-af", "-t", "1"],
                capture_output=True,
                timeout=60,
                check=False,
            )
            subprocess.run(
                [*self._podman(), "network", "prune", "-f"],
                capture_output=True,
                timeout=30,
                check=False,
            )
            # The service and the conmon processes started for this storage root, if
            # any survived, together: one deadline, not one per process.
            conmons = []
            for proc in Path("/proc").glob("[0-9]*"):
                with contextlib.suppress(OSError):
                    cmdline = (proc / "cmdline").read_bytes()
                    if b"conmon" in cmdline and str(self.root).encode() in cmdline:
                        conmons.append(int(proc.name))
            _kill_all([self.pid, *conmons])
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        for path in (self.runroot, self.root):
            _umount_under(path)
            shutil.rmtree(path, ignore_errors=True)
            if path.exists():
                problems.append(f"directory {path} remains")
        for name in self.SHARED_STATE:
            state = Path(name)
            if name in self.preexisting or not state.exists():
                continue
            _umount_under(state)
            if state.is_dir():
                shutil.rmtree(state, ignore_errors=True)
            else:
                state.unlink(missing_ok=True)
        return problems


@dataclass
class NamespaceSshd:
    """openssh-server inside a NetnsDockerd's namespace, listening on its address only.

    ``ssh://root@NS_ADDR`` then reaches that dockerd the way docker-py's ssh client
    does (``ssh HOST docker system dial-stdio``): sshd's ``SetEnv DOCKER_HOST`` points
    the remote docker CLI at the namespaced daemon's socket. The client side uses its
    own key, known_hosts and config through an ``ssh`` wrapper first on PATH, so
    nothing in ~/.ssh is touched.
    """

    dockerd: NetnsDockerd
    process: subprocess.Popen[bytes] | None = None
    made_privsep: bool = False

    @property
    def dir(self) -> Path:
        return self.dockerd.root / "ssh"

    @property
    def url(self) -> str:
        return f"ssh://root@{self.dockerd.address}"

    @property
    def bin_dir(self) -> Path:
        return self.dir / "bin"

    def env(self) -> dict[str, str]:
        """What a client process needs: DOCKER_HOST and the ssh wrapper first on PATH."""
        return {
            "DOCKER_HOST": self.url,
            "PATH": f"{self.bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        }

    def start(self) -> None:
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        if not Path(sshd).exists():
            raise RuntimeError("sshd not found (Debian: apt-get install openssh-server)")
        self.bin_dir.mkdir(parents=True, exist_ok=True)
        for key in ("host_key", "client_key"):
            _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.dir / key)])
        shutil.copy(self.dir / "client_key.pub", self.dir / "authorized_keys")
        address = self.dockerd.address
        (self.dir / "sshd_config").write_text(
            f"Port 22\nListenAddress {address}\nHostKey {self.dir / 'host_key'}\n"
            f"PidFile {self.dir / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {self.dir / 'authorized_keys'}\n"
            "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
            f"SetEnv DOCKER_HOST=unix://{self.dockerd.root / 'run' / 'docker.sock'}\n"
        )
        (self.dir / "ssh_config").write_text(
            f"Host {address}\n  User root\n  IdentityFile {self.dir / 'client_key'}\n"
            f"  UserKnownHostsFile {self.dir / 'known_hosts'}\n"
            "  StrictHostKeyChecking accept-new\n  BatchMode yes\n  ConnectTimeout 10\n"
        )
        wrapper = self.bin_dir / "ssh"
        wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/ssh -F {self.dir / "ssh_config"} "$@"\n')
        wrapper.chmod(0o755)
        privsep = Path("/run/sshd")
        if not privsep.exists():
            privsep.mkdir(mode=0o755)
            self.made_privsep = True
        log = (self.dir / "sshd.log").open("wb")
        self.process = subprocess.Popen(
            [
                "nsenter",
                f"--net=/var/run/netns/{self.dockerd.name}",
                sshd,
                "-D",
                "-e",
                "-f",
                str(self.dir / "sshd_config"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        try:
            _wait(self._answers, 30, f"sshd at {address}")
        except RuntimeError as error:
            raise RuntimeError(f"{error}: {self.log_tail()}") from None

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"sshd exited: {self.log_tail()}")
        done = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            env={**os.environ, **self.env()},
            capture_output=True,
            timeout=20,
            check=False,
        )
        return done.returncode == 0

    def log_tail(self, lines: int = 10) -> str:
        return _log_tail(self.dir / "sshd.log", lines)

    def stop(self) -> None:
        if self.process is not None:
            _kill_all([self.process.pid], timeout=10)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        if self.made_privsep:
            with contextlib.suppress(OSError):
                Path("/run/sshd").rmdir()
        shutil.rmtree(self.dir, ignore_errors=True)
