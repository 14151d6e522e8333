"""Plugins: a Traefik local plugin (Yaegi) on the gateway, a Go plugin in the service."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_traefik_compat import engine, gobuild
from pytest_traefik_compat.bases import BaseImage, images, startcheck
from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.measure import waiting
from pytest_traefik_compat.plugin.session import CompatSession
from pytest_traefik_compat.records.checks import (
    BUILD_FAILED,
    FAILS,
    GLIBC,
    GO_PLUGIN,
    LOADS,
    MISSING,
    MUSL,
    PLUGIN_VALUE,
    TRAEFIK_PLUGIN,
)
from pytest_traefik_compat.suite.common import START_TIMEOUT_S, RecordFactory


def test_traefik_plugin(compat_stack: Gateway, traefik_record: RecordFactory) -> None:
    """Traefik plugins are Go source run by Yaegi, not .so files: one loads on every base.

    Asserts: a request through Traefik carries the header the suite's local plugin sets.
    Records: that header's value, the status of the request.
    """
    record = traefik_record(TRAEFIK_PLUGIN.check)
    with compat_stack.https_client() as client:
        answer = client.get("/healthz")
    value = answer.headers.get("X-Compat-Plugin")
    record.figure(TRAEFIK_PLUGIN.header, value or MISSING)
    record.figure(TRAEFIK_PLUGIN.status, answer.status_code)
    assert value == PLUGIN_VALUE, f"the local plugin's header is {value!r}"


@pytest.mark.parametrize("linkage", [GLIBC, MUSL])
def test_go_plugin(
    linkage: gobuild.Linkage,
    traefik_base: BaseImage,
    traefik_compat: CompatSession,
    sample_dir: Any,
    compat_stack: Gateway,
    traefik_record: RecordFactory,
) -> None:
    """Where does a Go -buildmode=plugin load? Only where its libc's loader is.

    Asserts: the host and its plugin build for the linkage (the variant: glibc, musl);
    the plugin loads (the host exits 0 and the plugin greets) exactly where the
    prediction from the host's ELF headers says it starts.
    Records: predicted and observed (loads/fails), the host's exit code; details: its
    output, the prediction's reason; outcome "build failed" and the error when it did
    not build.
    """
    record = traefik_record(GO_PLUGIN.check, variant=linkage)
    module = sample_dir / "goplugin"
    try:
        host = traefik_compat.builds.go_binary(
            gobuild.BuildRequest(module, package="./host", linkage=linkage, output_name="host")
        )
        plugin = traefik_compat.builds.go_binary(
            gobuild.BuildRequest(
                module,
                package="./greeter",
                linkage=linkage,
                buildmode="plugin",
                output_name="greeter.so",
            )
        )
    except CompatError as error:
        record.figure(GO_PLUGIN.outcome, BUILD_FAILED).details[GO_PLUGIN.error] = str(error)
        pytest.fail(str(error), pytrace=False)
    request = images.ImageRequest(
        base=traefik_base,
        binary=host.path,
        binary_identity=f"{host.key}+{plugin.key}",
        kind="svc",
        name=f"goplugin-{linkage}",
        entrypoint=("/app", "/greeter.so"),
        extra_files=((plugin.path, "/greeter.so"),),
    )
    image = images.ensure_image(request, traefik_compat.lock_dir)
    prediction = startcheck.predict_start(
        host.elf, traefik_base.files, image_glibc=startcheck.glibc_version_of(traefik_base.facts)
    )
    container = compat_stack.run_container(image.tag, f"goplugin-{linkage}")
    try:
        code, _ = waiting.container_exit(container, timeout=START_TIMEOUT_S)
        output = engine.log_tail(container, 5)
    finally:
        container.remove(force=True)
    loads = code == 0 and "hello" in output.lower()
    record.figure(GO_PLUGIN.predicted, LOADS if prediction.starts else FAILS)
    record.figure(GO_PLUGIN.observed, LOADS if loads else FAILS)
    record.figure(GO_PLUGIN.exit_code, code if code is not None else MISSING)
    record.details.update({GO_PLUGIN.output: output, GO_PLUGIN.reason: prediction.reason})
    assert loads == prediction.starts, f"predicted {prediction.reason}; got {code}: {output}"
