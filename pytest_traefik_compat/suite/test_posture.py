"""Posture: how the base's service and Traefik containers run (user, capabilities,
privilege gain, root file system)."""

from __future__ import annotations

from pytest_traefik_compat import engine
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.records.checks import POSTURE, POSTURE_SERVICE, POSTURE_TRAEFIK
from pytest_traefik_compat.suite.common import RecordFactory


def test_posture(compat_stack: Gateway, traefik_record: RecordFactory) -> None:
    """The service's and Traefik's containers as the engine runs them.

    Read from the engine's inspect data, the user from the running process's real uid
    where the engine is local (Traefik runs as the caller's uid when pytest is not root).

    Asserts: both run as non-root, with every capability dropped and none added,
    no-new-privileges and a read-only root, unless the container carries a named
    posture exception for the part that does not hold.
    Records: per container (variant service, traefik): the configured user, non-root,
    CapDrop ALL, the capabilities added, no-new-privileges, read-only root, and the
    exception's reason when one is named; details: the process's uid, the writable
    paths (tmpfs and writable mounts), what the exception relaxes.
    """
    assert compat_stack.traefik is not None
    containers = {
        POSTURE_SERVICE: compat_stack.services["app"].container,
        POSTURE_TRAEFIK: compat_stack.traefik,
    }
    problems: list[str] = []
    for variant, container in containers.items():
        seen = engine.posture(container)
        record = traefik_record(POSTURE.check, variant=variant)
        record.figure(POSTURE.user, seen.user)
        record.figure(POSTURE.non_root, seen.non_root)
        record.figure(POSTURE.cap_drop_all, seen.cap_drop_all)
        record.figure(POSTURE.cap_add, str(list(seen.cap_add)))
        record.figure(POSTURE.no_new_privileges, seen.no_new_privileges)
        record.figure(POSTURE.read_only_root, seen.read_only_root)
        if seen.exception:
            record.figure(POSTURE.exception, seen.exception)
            record.details[POSTURE.excepted] = list(seen.excepted)
        record.details[POSTURE.uid] = seen.uid
        record.details[POSTURE.writable_paths] = list(seen.writable_paths)
        if seen.unexcused:
            problems.append(f"{variant}: {seen.describe()}")
    assert not problems, "; ".join(problems)
