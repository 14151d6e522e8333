"""The posture of every container: non-root, no capabilities, no new privileges, read-only root.

The container layer applies it (:func:`hardened`) and refuses an option that undoes
part of it. A departure must be named with a :class:`PostureException`; the exception
travels with the container as labels, so whoever inspects the container (the suite's
posture check, a test watching the engine's events) tells a recorded exception from a
regression (:func:`read_posture`). Pure: no engine calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pytest_traefik_compat.engine.labels import LABEL_PREFIX

NONROOT_USER: Final = "65532:65532"
NO_NEW_PRIVILEGES: Final = "no-new-privileges"
LABEL_EXCEPTION: Final = f"{LABEL_PREFIX}.posture-exception"
LABEL_EXCEPTION_KEYS: Final = f"{LABEL_PREFIX}.posture-exception-keys"

# The four parts, named like the posture check's figures (records.checks.POSTURE).
NON_ROOT: Final = "non_root"
CAP_DROP_ALL: Final = "cap_drop_all"
CAP_ADD: Final = "cap_add"
NO_NEW_PRIVS: Final = "no_new_privileges"
READ_ONLY_ROOT: Final = "read_only_root"

# Bounded processes and memory: not part of the posture, a caller may change them.
LIMITS: Final[dict[str, Any]] = {"pids_limit": 512, "mem_limit": "512m"}
HARDENING: Final[dict[str, Any]] = {
    "cap_drop": ["ALL"],
    "read_only": True,
    "security_opt": [NO_NEW_PRIVILEGES],
    **LIMITS,
}


def is_root(user: str) -> bool:
    """Is ``user`` (``name``, ``uid`` or ``uid:gid``; empty = the engine's default) root?

    A user name other than ``root`` counts as non-root: its uid is in the image's
    /etc/passwd, which the running process's uid (:attr:`Posture.uid`) confirms.
    """
    name = user.split(":", 1)[0].strip()
    return name in ("", "0", "root")


@dataclass(frozen=True)
class PostureException:
    """A named departure from the posture, recorded on the container and in the report.

    Args:
        reason: why (shown in the report), e.g. "the team's base needs root".
        user: run as this root user (``"0"``, ``"root"``, ``"0:0"``).
        cap_add: capabilities given back, e.g. ``("NET_BIND_SERVICE",)``.
        new_privileges: leave out ``no-new-privileges`` (setuid programs gain privileges).
        writable_root: a writable root file system.
    """

    reason: str
    user: str | None = None
    cap_add: tuple[str, ...] = ()
    new_privileges: bool = False
    writable_root: bool = False

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("a PostureException needs a reason: the report shows it")
        if self.user is not None and not is_root(self.user):
            raise ValueError(
                f"user {self.user!r} is not root and needs no exception: pass user= instead"
            )
        if isinstance(self.cap_add, str):
            raise ValueError("cap_add is a tuple of capability names, not one string")
        if not self.relaxes:
            raise ValueError(
                "a PostureException names what it relaxes: user=, cap_add=, "
                "new_privileges= or writable_root="
            )

    @property
    def relaxes(self) -> tuple[str, ...]:
        """The parts of the posture this exception gives up (figure names)."""
        parts = {
            NON_ROOT: self.user is not None,
            CAP_ADD: bool(self.cap_add),
            NO_NEW_PRIVS: self.new_privileges,
            READ_ONLY_ROOT: self.writable_root,
        }
        return tuple(name for name, relaxed in parts.items() if relaxed)

    def labels(self) -> dict[str, str]:
        return {LABEL_EXCEPTION: self.reason, LABEL_EXCEPTION_KEYS: ",".join(self.relaxes)}


def _refused(option: str, exception_field: str) -> ValueError:
    return ValueError(
        f"{option} undoes the container posture; name it instead: "
        f'posture_exception=PostureException(reason="why", {exception_field})'
    )


def _disables_nnp(option: str) -> bool:
    key, _, value = option.replace("=", ":").partition(":")
    return key.strip() == NO_NEW_PRIVILEGES and value.strip().lower() in ("false", "0")


def hardened(
    options: Mapping[str, Any],
    *,
    image_user: str = "",
    exception: PostureException | None = None,
) -> dict[str, Any]:
    """Create options (docker-py's names) with the posture applied.

    The user is the caller's, else the image's, else 65532:65532 (an image whose USER
    is root runs as 65532 unless the exception names root). ``labels`` gain the
    exception's labels. Raises ValueError for an option that undoes part of the posture
    (root ``user``, ``cap_add``, ``cap_drop`` other than ALL, ``read_only=False``,
    ``no-new-privileges:false``, ``privileged``) unless ``exception`` names it.
    """
    rest = dict(options)
    if rest.pop("privileged", False):
        raise ValueError("privileged=True undoes the whole posture; the plugin never runs one")
    cap_drop = rest.pop("cap_drop", None)
    if cap_drop is not None and [str(c).upper() for c in cap_drop] != ["ALL"]:
        raise ValueError(f"cap_drop={cap_drop!r}: every container drops ALL capabilities")
    cap_add = list(rest.pop("cap_add", None) or [])
    if cap_add:
        raise _refused(f"cap_add={cap_add!r}", f"cap_add={tuple(cap_add)!r}")
    if rest.pop("read_only", True) is not True:
        raise _refused("read_only=False", "writable_root=True")
    security_opt: Sequence[str] = rest.pop("security_opt", None) or []
    if any(_disables_nnp(option) for option in security_opt):
        raise _refused("no-new-privileges:false", "new_privileges=True")
    user = str(rest.pop("user", None) or "")
    if user and is_root(user):
        raise _refused(f"user={user!r}", f"user={user!r}")
    read_only = True
    if exception is not None:
        if exception.user is not None:
            if user:
                raise ValueError(f"user={user!r} and the exception's user: name one")
            user = exception.user
        cap_add = list(exception.cap_add)
        read_only = not exception.writable_root
    if not user:
        user = image_user if not is_root(image_user) else NONROOT_USER
    extra = [o for o in security_opt if o.split(":")[0].split("=")[0] != NO_NEW_PRIVILEGES]
    relaxed_nnp = exception is not None and exception.new_privileges
    labels = {**dict(rest.pop("labels", None) or {}), **(exception.labels() if exception else {})}
    result: dict[str, Any] = {
        **LIMITS,
        **rest,
        "user": user,
        "cap_drop": ["ALL"],
        "read_only": read_only,
        "security_opt": extra if relaxed_nnp else [NO_NEW_PRIVILEGES, *extra],
        "labels": labels,
    }
    if cap_add:
        result["cap_add"] = cap_add
    return result


@dataclass(frozen=True)
class Posture:
    """One container's posture as the engine reports it (``docker inspect``)."""

    name: str
    user: str  # as configured: Config.User
    uid: int | None  # the running process's real uid, where this machine sees it
    non_root: bool
    cap_drop_all: bool
    cap_add: tuple[str, ...]
    no_new_privileges: bool
    read_only_root: bool
    writable_paths: tuple[str, ...]  # tmpfs and writable mounts
    exception: str | None  # the named exception's reason
    excepted: tuple[str, ...]  # what it relaxes

    @property
    def departures(self) -> tuple[str, ...]:
        """The parts of the posture that do not hold (figure names)."""
        parts = {
            NON_ROOT: self.non_root,
            CAP_DROP_ALL: self.cap_drop_all,
            CAP_ADD: not self.cap_add,
            NO_NEW_PRIVS: self.no_new_privileges,
            READ_ONLY_ROOT: self.read_only_root,
        }
        return tuple(name for name, holds in parts.items() if not holds)

    @property
    def unexcused(self) -> tuple[str, ...]:
        """Departures no named exception covers: each one is a regression."""
        return tuple(part for part in self.departures if part not in self.excepted)

    def describe(self) -> str:
        """One line: the name, the user, and what does not hold."""
        uid = f" (uid {self.uid})" if self.uid is not None else ""
        broken = ", ".join(self.unexcused) or "hardened"
        excepted = f"; exception: {self.exception}" if self.exception else ""
        return f"{self.name}: user {self.user or '(image default)'}{uid}: {broken}{excepted}"


def read_posture(
    attrs: Mapping[str, Any], *, uid: int | None = None, cap_bound: int | None = None
) -> Posture:
    """The posture of a container from its inspect data, and from its process where this
    machine sees it: the real uid, and the capability bounding set (``CapBnd``), which is
    empty exactly when every capability was dropped. The process is the evidence where
    engines spell the drop differently (Podman lists each dropped capability instead of
    ``ALL``)."""
    config = attrs.get("Config") or {}
    host = attrs.get("HostConfig") or {}
    labels = config.get("Labels") or {}
    user = str(config.get("User") or "")
    security_opt = [str(o) for o in host.get("SecurityOpt") or []]
    writable = [str(path) for path in host.get("Tmpfs") or {}]
    writable += [str(m.get("Destination")) for m in attrs.get("Mounts") or [] if m.get("RW")]
    keys = labels.get(LABEL_EXCEPTION_KEYS, "")
    return Posture(
        name=str(attrs.get("Name") or "").lstrip("/"),
        user=user,
        uid=uid,
        non_root=uid != 0 if uid is not None else not is_root(user),
        cap_drop_all=(
            cap_bound == 0
            if cap_bound is not None
            else [str(c).upper() for c in host.get("CapDrop") or []] == ["ALL"]
        )
        and not host.get("Privileged"),
        cap_add=tuple(str(c) for c in host.get("CapAdd") or []),
        no_new_privileges=any(
            o.split(":")[0].split("=")[0] == NO_NEW_PRIVILEGES and not _disables_nnp(o)
            for o in security_opt
        ),
        read_only_root=host.get("ReadonlyRootfs") is True,
        writable_paths=tuple(sorted(set(writable))),
        exception=labels.get(LABEL_EXCEPTION) or None,
        excepted=tuple(k for k in keys.split(",") if k),
    )
