"""A lint for a team's own Traefik v3 configuration: the mTLS traps users hit in production.

Reads static and dynamic files (YAML or TOML, file provider layout) together and reports
six classes of finding, each proven against the real Traefik binary in
``tests/tools/test_traefik_lint.py`` (Traefik 3.7.15):

- ``no-host-rule``: a TLS router with its own TLS option and no ``Host()``/``HostSNI()``
  in its rule gets the ``default`` option instead (Traefik only logs an error line). Seen:
  a client without a certificate gets 200 from a router whose option requires one.
- ``shared-host-options``: routers sharing a host with different TLS options all fall
  back to ``default``. Seen: a client without a certificate gets 200.
- ``weak-default``: the ``default`` option (what no-SNI and unknown-SNI connections get)
  is weaker than a router's (lower minVersion, weaker client auth; a missing ``default``
  is Traefik's built-in: TLS 1.2, no client auth). Seen: without SNI the handshake
  completes with no client certificate at all.
- ``sni-strict-no-certificate``: ``sniStrict`` with no certificate under
  ``tls.certificates`` (a store's ``defaultCertificate`` does not count). Seen: every
  handshake, valid client included, ends in ``unrecognized_name``.
- ``client-auth-ca-files``: ``clientAuth`` that verifies certificates with ``caFiles``
  missing, empty or unreadable. Seen: the TLS config fails to build and every handshake
  on the router ends with a bare EOF (an outage, logged once).
- ``min-version-below-tls12``: ``minVersion`` TLS 1.0 or 1.1. Seen: a TLS 1.1 client
  gets 200.

Pure except for reading the files (and checking that caFiles exist on this machine,
which is only meaningful where Traefik runs; the finding says so).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pytest_traefik_compat.errors import CompatError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 reads TOML only with tomli installed
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None

__all__ = [
    "CLIENT_AUTH_CA_FILES",
    "FINDING_CLASSES",
    "MIN_VERSION_BELOW_TLS12",
    "NO_HOST_RULE",
    "SHARED_HOST_OPTIONS",
    "SNI_STRICT_NO_CERTIFICATE",
    "WEAK_DEFAULT",
    "Finding",
    "Findings",
    "lint_config",
    "lint_paths",
]

NO_HOST_RULE = "no-host-rule"
SHARED_HOST_OPTIONS = "shared-host-options"
WEAK_DEFAULT = "weak-default"
SNI_STRICT_NO_CERTIFICATE = "sni-strict-no-certificate"
CLIENT_AUTH_CA_FILES = "client-auth-ca-files"
MIN_VERSION_BELOW_TLS12 = "min-version-below-tls12"
FINDING_CLASSES = (
    NO_HOST_RULE,
    SHARED_HOST_OPTIONS,
    WEAK_DEFAULT,
    SNI_STRICT_NO_CERTIFICATE,
    CLIENT_AUTH_CA_FILES,
    MIN_VERSION_BELOW_TLS12,
)

DEFAULT = "default"
_SUFFIXES = (".yml", ".yaml", ".toml")
_VERSIONS = {"VersionTLS10": 10, "VersionTLS11": 11, "VersionTLS12": 12, "VersionTLS13": 13}
_CLIENT_AUTH = {
    "NoClientCert": 0,
    "RequestClientCert": 1,
    "RequireAnyClientCert": 2,
    "VerifyClientCertIfGiven": 3,
    "RequireAndVerifyClientCert": 4,
}
_VERIFYING = {"VerifyClientCertIfGiven", "RequireAndVerifyClientCert"}
# Traefik's built-in default option: Go's defaults, TLS 1.2 and no client certificate.
_BUILTIN_DEFAULT: dict[str, Any] = {"minVersion": "VersionTLS12"}
# Host(`a`) / HostSNI(`a`) with backticks or quotes; v2's Host(`a`, `b`) lists too.
_HOST_CALL_RE = re.compile(r"\b(Host|HostSNI)\s*\(([^)]*)\)")
_HOST_ARG_RE = re.compile(r"[`\"']([^`\"']+)[`\"']")


@dataclass(frozen=True)
class Finding:
    code: str
    file: str
    router: str  # a router name, or "tls.options.<name>" where no router is to blame
    why: str
    fix: str

    def line(self) -> str:
        return f"{self.file}: {self.router}: [{self.code}] {self.why}\n    fix: {self.fix}"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class Findings(list[Finding]):
    """The findings of one lint, printed one finding per entry (``Finding.line()``), so
    ``assert not findings, findings`` and a failing test show the readable text."""

    def __str__(self) -> str:
        return "\n".join(f.line() for f in self)

    def __repr__(self) -> str:
        return str(self) if self else "no findings"


@dataclass
class _Router:
    name: str
    file: str
    rule: str
    entry_points: list[str] | None  # None: every entry point (Traefik's default)
    tls: Mapping[str, Any] | None
    kind: str  # "http" or "tcp"

    @property
    def option(self) -> str:
        name = str((self.tls or {}).get("options") or DEFAULT)
        return name.split("@", 1)[0]

    @property
    def hosts(self) -> list[str]:
        found: list[str] = []
        for match in _HOST_CALL_RE.finditer(self.rule):
            found += [h.lower() for h in _HOST_ARG_RE.findall(match.group(2))]
        return found


@dataclass
class _Config:
    routers: list[_Router] = field(default_factory=list)
    options: dict[str, tuple[str, Mapping[str, Any]]] = field(default_factory=dict)
    certificates: int = 0
    tls_entry_points: set[str] | None = None  # None: no static configuration was given
    entry_points: set[str] = field(default_factory=set)


def _load(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CompatError(f"cannot read {path}: {error}") from None
    try:
        if path.suffix == ".toml":
            if tomllib is None:
                raise CompatError(f"{path}: reading TOML on Python 3.10 needs tomli")
            return tomllib.loads(text)
        return yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        kind = "TOML" if path.suffix == ".toml" else "YAML"
        raise CompatError(f"{path} is not valid {kind}: {error}") from None


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in _SUFFIXES and p.is_file())
        elif path.exists():
            files.append(path)
        else:
            raise CompatError(f"no such file or directory: {path}")
    if not files:
        raise CompatError("no Traefik configuration files given (YAML or TOML)")
    return files


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _add(config: _Config, data: Mapping[str, Any], file: str) -> None:
    entry_points = _mapping(data.get("entryPoints"))
    if entry_points or "providers" in data:  # static configuration
        config.tls_entry_points = config.tls_entry_points or set()
        for name, entry in entry_points.items():
            config.entry_points.add(str(name))
            if "tls" in _mapping(_mapping(entry).get("http")):
                config.tls_entry_points.add(str(name))
    for kind in ("http", "tcp"):
        for name, router in _mapping(_mapping(data.get(kind)).get("routers")).items():
            router = _mapping(router)
            eps = router.get("entryPoints")
            tls = router.get("tls")
            config.routers.append(
                _Router(
                    name=str(name),
                    file=file,
                    rule=str(router.get("rule") or ""),
                    entry_points=[str(e) for e in eps] if isinstance(eps, list) else None,
                    tls=_mapping(tls) if tls is not None else None,
                    kind=kind,
                )
            )
    tls = _mapping(data.get("tls"))
    for name, option in _mapping(tls.get("options")).items():
        config.options[str(name)] = (file, _mapping(option))
    certificates = tls.get("certificates")
    if isinstance(certificates, list):
        config.certificates += len(certificates)


def _is_tls(router: _Router, config: _Config) -> bool:
    if router.tls is not None:
        return True
    if config.tls_entry_points is None:
        return False
    eps = router.entry_points if router.entry_points is not None else config.entry_points
    return bool(set(eps) & config.tls_entry_points)


def _option(config: _Config, name: str) -> Mapping[str, Any]:
    if name in config.options:
        return config.options[name][1]
    return _BUILTIN_DEFAULT if name == DEFAULT else {}


def _min_version(option: Mapping[str, Any]) -> int:
    return _VERSIONS.get(str(option.get("minVersion") or "VersionTLS12"), 12)


def _client_auth(option: Mapping[str, Any]) -> tuple[str, int]:
    kind = str(_mapping(option.get("clientAuth")).get("clientAuthType") or "NoClientCert")
    return kind, _CLIENT_AUTH.get(kind, 0)


def _option_findings(config: _Config, routers: Sequence[_Router]) -> list[Finding]:
    findings: list[Finding] = []
    users: dict[str, list[str]] = {}
    for router in routers:
        users.setdefault(router.option, []).append(router.name)
    for name, (file, option) in sorted(config.options.items()):
        who = ", ".join(users.get(name, [])) or f"tls.options.{name}"
        version = str(option.get("minVersion") or "")
        if _min_version(option) < 12:
            findings.append(
                Finding(
                    MIN_VERSION_BELOW_TLS12,
                    file,
                    who,
                    f"TLS option {name!r} has minVersion {version}: TLS 1.0/1.1 clients get in",
                    f"set tls.options.{name}.minVersion to VersionTLS12 (or VersionTLS13)",
                )
            )
        if option.get("sniStrict") and config.certificates == 0:
            findings.append(
                Finding(
                    SNI_STRICT_NO_CERTIFICATE,
                    file,
                    who,
                    f"TLS option {name!r} sets sniStrict but no certificate is listed under "
                    "tls.certificates (a store's defaultCertificate does not count): every "
                    "handshake ends in unrecognized_name",
                    "list the server certificate under tls.certificates (certFile, keyFile)",
                )
            )
        auth = _mapping(option.get("clientAuth"))
        kind, _ = _client_auth(option)
        if auth and kind in _VERIFYING:
            ca_files = auth.get("caFiles")
            problem = ""
            if not ca_files:
                problem = f"clientAuthType {kind} with no caFiles"
            else:
                unreadable = [
                    str(ca)
                    for ca in ca_files
                    if not str(ca).lstrip().startswith("-----BEGIN") and not _readable(ca, file)
                ]
                if unreadable:
                    problem = f"caFiles not readable here: {', '.join(unreadable)}"
            if problem:
                findings.append(
                    Finding(
                        CLIENT_AUTH_CA_FILES,
                        file,
                        who,
                        f"TLS option {name!r}: {problem}; Traefik cannot build the TLS config "
                        "and every handshake on it ends without an answer",
                        f"point tls.options.{name}.clientAuth.caFiles at the CA bundle that "
                        "issues your clients, readable where Traefik runs",
                    )
                )
    return findings


def _readable(ca: Any, config_file: str) -> bool:
    path = Path(str(ca))
    # Traefik resolves relative paths against its working directory; the config
    # file's directory is the best guess here.
    candidates = [path] if path.is_absolute() else [path, Path(config_file).parent / path]
    for candidate in candidates:
        try:
            with candidate.open("rb") as handle:
                handle.read(1)
            return True
        except OSError:
            continue
    return False


def lint_config(config: _Config) -> list[Finding]:
    routers = [r for r in config.routers if _is_tls(r, config)]
    findings: list[Finding] = []
    for router in routers:
        if not router.hosts and router.option != DEFAULT:
            matcher = "HostSNI" if router.kind == "tcp" else "Host"
            findings.append(
                Finding(
                    NO_HOST_RULE,
                    router.file,
                    router.name,
                    f"rule {router.rule!r} has no {matcher}(): Traefik cannot tie it to an SNI "
                    f"and serves it with the 'default' TLS option, not {router.option!r}",
                    f"add {matcher}(`your.host`) to the rule (or make {router.option!r} the "
                    "default option)",
                )
            )
    by_host: dict[str, list[_Router]] = {}
    for router in routers:
        for host in router.hosts:
            by_host.setdefault(host, []).append(router)
    for host, sharing in sorted(by_host.items()):
        options = sorted({r.option for r in sharing})
        if len(options) > 1:
            for router in sharing:
                findings.append(
                    Finding(
                        SHARED_HOST_OPTIONS,
                        router.file,
                        router.name,
                        f"host {host} is shared by routers with different TLS options "
                        f"({', '.join(options)}): all of them fall back to 'default'",
                        f"give every router of {host} the same tls.options (TLS options are "
                        "chosen per host, by SNI)",
                    )
                )
    default_file, default = config.options.get(DEFAULT, ("(built-in)", _BUILTIN_DEFAULT))
    default_version = _min_version(default)
    default_auth, default_rank = _client_auth(default)
    seen: set[str] = set()
    for router in routers:
        if router.option == DEFAULT or router.option in seen:
            continue
        option = _option(config, router.option)
        weaker: list[str] = []
        if default_version < _min_version(option):
            weaker.append(
                f"minVersion TLS1.{default_version - 10} < TLS1.{_min_version(option) - 10}"
            )
        kind, rank = _client_auth(option)
        if default_rank < rank:
            weaker.append(f"clientAuth {default_auth} < {kind}")
        if weaker:
            seen.add(router.option)
            names = ", ".join(r.name for r in routers if r.option == router.option)
            findings.append(
                Finding(
                    WEAK_DEFAULT,
                    router.file,
                    names,
                    f"the 'default' TLS option ({default_file}) is weaker than "
                    f"{router.option!r} ({'; '.join(weaker)}), and connections without SNI "
                    "or with an unknown one get 'default'",
                    f"make tls.options.default as strict as {router.option!r} (and set sniStrict)",
                )
            )
    findings += _option_findings(config, routers)
    return findings


def lint_paths(paths: Iterable[str | Path]) -> Findings:
    """Lint Traefik configuration files (static and dynamic, YAML or TOML; directories
    are read recursively) as one configuration. Raises CompatError on unreadable input."""
    config = _Config()
    for path in _expand(paths):
        data = _load(path)
        if data is None:
            continue
        if not isinstance(data, Mapping):
            raise CompatError(f"{path}: a Traefik configuration is a mapping at the top level")
        _add(config, data, str(path))
    return Findings(lint_config(config))


def lint_command(paths: Sequence[str], fmt: str = "text") -> tuple[str, int]:
    """``python -m pytest_traefik_compat lint-traefik FILE...``: (output, exit code).
    Exit 0 without findings, 1 with findings (2, unreadable input, comes from the CLI)."""
    import json

    findings = lint_paths(paths)
    if fmt == "json":
        return json.dumps([f.as_dict() for f in findings], indent=2) + "\n", int(bool(findings))
    if not findings:
        return "no findings\n", 0
    lines = [f.line() for f in findings]
    lines.append(f"{len(findings)} finding(s)")
    return "\n".join(lines) + "\n", 1
