"""The base image alone, before the service is added."""

from __future__ import annotations

from pytest_traefik_compat.bases import BaseImage
from pytest_traefik_compat.records.checks import IMAGE_FACTS, MISSING
from pytest_traefik_compat.suite.common import RecordFactory


def test_image_facts(traefik_base: BaseImage, traefik_record: RecordFactory) -> None:
    """What the base image holds, read from the image.

    Asserts: the image has an id.
    Records: size, layers, libc kind and version, shell, curl, wget, CA bundle, default
    user, OS name, whether zoneinfo is there, file count; details: every fact.
    """
    facts = traefik_base.facts
    record = traefik_record(IMAGE_FACTS.check)
    record.figure(IMAGE_FACTS.size, facts.size_bytes, "bytes")
    record.figure(IMAGE_FACTS.layers, facts.layers, "count")
    record.figure(IMAGE_FACTS.libc, f"{facts.libc_kind} {facts.libc_version or ''}".strip())
    for name, value in (
        (IMAGE_FACTS.shell, facts.shell),
        (IMAGE_FACTS.curl, facts.curl),
        (IMAGE_FACTS.wget, facts.wget),
        (IMAGE_FACTS.ca_bundle, facts.ca_bundle),
        (IMAGE_FACTS.default_user, facts.default_user),
        (IMAGE_FACTS.os_name, facts.os_name),
    ):
        record.figure(name, value or MISSING)
    record.figure(IMAGE_FACTS.zoneinfo, facts.zoneinfo)
    record.figure(IMAGE_FACTS.files, facts.file_count, "count")
    record.details = facts.as_dict()
    assert facts.image_id, "an image id is always known"
