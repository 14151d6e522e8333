"""Which engine a run talks to, and on which address its published ports are reached.

Built on testcontainers' own resolution (``testcontainers.core.docker_client``):
``tc.host`` in ~/.testcontainers.properties, then ``DOCKER_HOST`` (unix, tcp, tcp with
TLS through ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``, ``ssh://`` through the system ssh
client), then the current docker context, then the default socket. The containers
testcontainers creates for us resolve the same way, so both always talk to one engine.

The address used to reach published ports is the engine's host (``127.0.0.1`` for a
local socket); ``--traefik-engine-host`` (env ``PYTEST_TRAEFIK_ENGINE_HOST``, ini
``traefik_engine_host``), else testcontainers' ``TESTCONTAINERS_HOST_OVERRIDE``/``TC_HOST``,
overrides it. Ports are published on the narrowest address known to be the engine
host's own: loopback for a local engine, the engine's IP for a remote one; only when
neither is known (a forwarded socket with a host-name override) on all addresses.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import re
import shutil
import socket
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pytest_traefik_compat.errors import CompatError

LOOPBACK = "127.0.0.1"
ALL_ADDRESSES = "0.0.0.0"
DEFAULT_SOCKET = "unix:///var/run/docker.sock"
ENGINE_HOST_ENV = "PYTEST_TRAEFIK_ENGINE_HOST"
SCHEMES = ("unix", "tcp", "ssh", "http", "https")
TLS_FILES = ("ca.pem", "cert.pem", "key.pem")
USAGE = (
    "use unix:///path/docker.sock, tcp://HOST:PORT (TLS: DOCKER_TLS_VERIFY=1) or ssh://USER@HOST"
)

# A host name or an IP literal, nothing else (no scheme, no port, no path).
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)

_override: str | None = None


def parse_engine_host(value: str) -> str:
    """Validate ``--traefik-engine-host``: a host name or an IP address, no port.

    Raises ValueError with one line naming the fix (settings turns it into a usage error).
    """
    text = value.strip()
    candidate = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        pass
    if _HOST_NAME.match(candidate) and not candidate.replace(".", "").isdigit():
        return candidate
    raise ValueError(
        f"engine host must be a host name or an IP address (no scheme, no port), got {value!r}"
    )


def set_host_override(host: str | None) -> None:
    """The run's ``--traefik-engine-host`` (the plugin calls this once per process)."""
    global _override
    _override = host


@dataclass(frozen=True)
class EngineTarget:
    """Where the engine is and how its published ports are reached."""

    url: str  # the engine's address as given (DOCKER_HOST, context or default socket)
    source: str  # "DOCKER_HOST", "docker context NAME", "tc.host", "default socket"
    scheme: str  # unix, tcp, ssh
    tls: bool
    connect_host: str  # where clients and probes connect to published ports
    publish_host: str  # the address published ports bind to on the engine host
    host_source: str  # why connect_host is what it is
    cert_path: str | None = None
    context_tls: object | None = None  # docker.tls.TLSConfig of a context, if any

    @property
    def remote(self) -> bool:
        return self.scheme != "unix" and not _is_loopback(self.connect_host)

    @property
    def address(self) -> str:
        """The engine's address without credentials (for doctor and the report)."""
        parsed = urllib.parse.urlparse(self.url)
        if parsed.username or parsed.password:
            netloc = parsed.hostname or ""
            if parsed.port:
                netloc += f":{parsed.port}"
            return urllib.parse.urlunparse(parsed._replace(netloc=netloc))
        return self.url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _ip_of(host: str) -> str | None:
    """An IP literal as is, a name resolved once (IPv4 first); None when it does not resolve."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return None
    addresses = sorted({str(info[4][0]) for info in infos}, key=lambda a: ":" in a)
    return addresses[0] if addresses else None


def _raw_host(environ: Mapping[str, str]) -> tuple[str, str, object | None]:
    """(url, source, context TLS config) the way testcontainers resolves it."""
    from testcontainers.core import docker_client as tc_client
    from testcontainers.core.config import testcontainers_config

    tc_host = testcontainers_config.tc_properties_get_tc_host()
    if tc_host:
        return tc_host, "tc.host in ~/.testcontainers.properties", None
    if environ.get("DOCKER_HOST"):
        return environ["DOCKER_HOST"].strip(), "DOCKER_HOST", None
    if "DOCKER_HOST" in environ and not environ["DOCKER_HOST"].strip():
        return DEFAULT_SOCKET, "default socket", None
    host = tc_client._get_docker_host_from_context()
    if host:
        context_tls: object | None = None
        name = "current"
        try:
            from docker.context import ContextAPI

            context = ContextAPI.get_current_context()
            if context is not None:
                name = str(context.Name)
                context_tls = context.TLSConfig
        except Exception:
            context_tls = None
        return host, f"docker context {name}", context_tls
    return DEFAULT_SOCKET, "default socket", None


def resolve(
    environ: Mapping[str, str] | None = None, *, host_override: str | None = None
) -> EngineTarget:
    """The engine of this run; CompatError (one line) on a value that cannot work."""
    env = os.environ if environ is None else environ
    url, source, context_tls = _raw_host(env)
    parsed = urllib.parse.urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme in ("http", "https"):
        scheme = "tcp"
    if scheme not in ("unix", "tcp", "ssh"):
        shown = parsed.scheme or url
        raise CompatError(f"{source}={url}: unsupported scheme {shown!r}; {USAGE}")
    if scheme == "unix":
        if not parsed.path:
            raise CompatError(f"{source}={url}: no socket path; {USAGE}")
        engine_host = LOOPBACK
    else:
        try:
            hostname, port = parsed.hostname, parsed.port
        except ValueError:
            raise CompatError(f"{source}={url}: bad port; {USAGE}") from None
        if not hostname:
            raise CompatError(f"{source}={url}: no host; {USAGE}")
        if scheme == "tcp" and port is None:
            raise CompatError(f"{source}={url}: no port (2375 plain, 2376 TLS); {USAGE}")
        engine_host = hostname
    tls = scheme == "tcp" and (
        bool(env.get("DOCKER_TLS_VERIFY")) or parsed.scheme == "https" or context_tls is not None
    )
    cert_path: str | None = None
    if scheme == "tcp" and env.get("DOCKER_TLS_VERIFY") and context_tls is None:
        cert_path = env.get("DOCKER_CERT_PATH") or str(Path.home() / ".docker")
        missing = [name for name in TLS_FILES if not (Path(cert_path) / name).is_file()]
        if missing:
            raise CompatError(
                f"DOCKER_TLS_VERIFY is set but DOCKER_CERT_PATH={cert_path} lacks "
                f"{', '.join(missing)}: point DOCKER_CERT_PATH at the engine's client "
                "certificates (ca.pem, cert.pem, key.pem)"
            )
    if scheme == "ssh" and importlib.util.find_spec("paramiko") is None:
        raise CompatError(
            f"{source}={url}: ssh:// needs paramiko (docker-py's ssh transport): "
            "pip install 'pytest-traefik-compat[ssh]'"
        )
    if scheme == "ssh" and shutil.which("ssh") is None:
        raise CompatError(
            f"{source}={url}: ssh:// needs the system ssh client on PATH "
            "(Debian: apt-get install openssh-client)"
        )

    override, host_source = _override_of(env, host_override)
    connect_host = override or engine_host
    if override is None:
        host_source = "the engine's address" if scheme != "unix" else "local socket"
    if _is_loopback(connect_host):
        connect_host, publish_host = LOOPBACK, LOOPBACK
    else:
        engine_ip = None if scheme == "unix" else _ip_of(engine_host)
        if engine_ip is not None and not ipaddress.ip_address(engine_ip).is_loopback:
            publish_host = engine_ip
        elif override is not None and _is_ip(override):
            publish_host = override
        else:
            publish_host = ALL_ADDRESSES
    return EngineTarget(
        url=url,
        source=source,
        scheme=scheme,
        tls=tls,
        connect_host=connect_host,
        publish_host=publish_host,
        host_source=host_source,
        cert_path=cert_path,
        context_tls=context_tls,
    )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _override_of(env: Mapping[str, str], explicit: str | None) -> tuple[str | None, str]:
    """--traefik-engine-host (as set by the plugin) > its env > testcontainers' override."""
    if explicit:
        return explicit, "--traefik-engine-host"
    if _override:
        return _override, "--traefik-engine-host"
    if env.get(ENGINE_HOST_ENV):
        try:
            return parse_engine_host(env[ENGINE_HOST_ENV]), ENGINE_HOST_ENV
        except ValueError as error:
            raise CompatError(f"{ENGINE_HOST_ENV}: {error}") from None
    for name in ("TC_HOST", "TESTCONTAINERS_HOST_OVERRIDE"):
        if env.get(name):
            try:
                return parse_engine_host(env[name]), name
            except ValueError as error:
                raise CompatError(f"{name}: {error}") from None
    return None, ""


def url_host(host: str) -> str:
    """A host as it goes into a URL or ``host:port`` (IPv6 literals in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
