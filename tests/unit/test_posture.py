"""The container posture: applied to every container, an override refused unless named."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from pytest_traefik_compat.engine import containers, hardening
from pytest_traefik_compat.engine.hardening import (
    NONROOT_USER,
    PostureException,
    hardened,
    is_root,
    read_posture,
)
from pytest_traefik_compat.errors import CompatError


def test_hardened_applies_all_four_parts_and_keeps_other_options() -> None:
    options = hardened({"labels": {"a": "b"}, "sysctls": {"x": "0"}}, image_user="65532:65532")
    assert options["user"] == "65532:65532"
    assert options["cap_drop"] == ["ALL"]
    assert options["security_opt"] == ["no-new-privileges"]
    assert options["read_only"] is True
    assert options["sysctls"] == {"x": "0"}  # not a posture key: allowed
    assert options["labels"] == {"a": "b"}
    assert "cap_add" not in options
    assert options["pids_limit"] == 512  # the limits stay unless a caller changes them
    assert hardened({"pids_limit": 64})["pids_limit"] == 64


@pytest.mark.parametrize("image_user", ["", "root", "0", "0:0"])
def test_an_image_running_as_root_runs_as_65532(image_user: str) -> None:
    assert hardened({}, image_user=image_user)["user"] == NONROOT_USER


def test_a_non_root_caller_or_image_user_is_kept() -> None:
    assert hardened({"user": "1000:1000"}, image_user="65532")["user"] == "1000:1000"
    assert hardened({"user": ""}, image_user="nonroot")["user"] == "nonroot"


@pytest.mark.parametrize(
    ("option", "fix"),
    [
        ({"user": "0"}, "user='0'"),
        ({"user": "root:root"}, "user='root:root'"),
        ({"cap_add": ["NET_ADMIN"]}, "cap_add=('NET_ADMIN',)"),
        ({"read_only": False}, "writable_root=True"),
        ({"security_opt": ["no-new-privileges:false"]}, "new_privileges=True"),
        ({"security_opt": ["no-new-privileges=false"]}, "new_privileges=True"),
    ],
)
def test_an_override_without_an_exception_is_refused_naming_the_fix(
    option: dict[str, Any], fix: str
) -> None:
    with pytest.raises(ValueError, match="posture_exception=PostureException") as caught:
        hardened(option)
    assert fix in str(caught.value)


@pytest.mark.parametrize("option", [{"privileged": True}, {"cap_drop": ["NET_RAW"]}])
def test_privileged_and_a_partial_cap_drop_are_never_allowed(option: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        hardened(option)
    with pytest.raises(ValueError):
        hardened(option, exception=PostureException("anything", writable_root=True))


def test_extra_security_options_are_kept_beside_no_new_privileges() -> None:
    options = hardened({"security_opt": ["seccomp=/p.json", "no-new-privileges"]})
    assert options["security_opt"] == ["no-new-privileges", "seccomp=/p.json"]


def test_a_named_exception_relaxes_what_it_names_and_is_labelled() -> None:
    exception = PostureException(
        "team base needs root", user="0", cap_add=("NET_BIND_SERVICE",), writable_root=True
    )
    options = hardened({"labels": {"run": "1"}}, image_user="65532", exception=exception)
    assert options["user"] == "0"
    assert options["cap_add"] == ["NET_BIND_SERVICE"]
    assert options["cap_drop"] == ["ALL"]
    assert options["read_only"] is False
    assert options["security_opt"] == ["no-new-privileges"]  # not named: kept
    assert options["labels"] == {
        "run": "1",
        hardening.LABEL_EXCEPTION: "team base needs root",
        hardening.LABEL_EXCEPTION_KEYS: "non_root,cap_add,read_only_root",
    }
    relaxed = hardened({}, exception=PostureException("setuid helper", new_privileges=True))
    assert relaxed["security_opt"] == []
    assert relaxed["user"] == NONROOT_USER


@pytest.mark.parametrize(
    "kwargs",
    [
        {"reason": " ", "user": "0"},
        {"reason": "why"},  # relaxes nothing
        {"reason": "why", "user": "1000"},  # not root: needs no exception
        {"reason": "why", "cap_add": "NET_ADMIN"},
    ],
)
def test_a_posture_exception_must_give_a_reason_and_name_a_relaxation(
    kwargs: dict[str, Any],
) -> None:
    with pytest.raises(ValueError):
        PostureException(**kwargs)


def test_a_user_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="name one"):
        hardened({"user": "1000"}, exception=PostureException("root", user="0"))


def test_is_root() -> None:
    assert all(is_root(u) for u in ("", "0", "root", "0:1000", "root:root"))
    assert not any(is_root(u) for u in ("65532:65532", "nonroot", "1000"))


def _attrs(**host: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"User": host.pop("user", "65532:65532"), "Labels": {}}
    config["Labels"].update(host.pop("labels", {}))
    return {
        "Name": "/ptc-x-app",
        "Config": config,
        "HostConfig": {
            "CapDrop": ["ALL"],
            "CapAdd": None,
            "SecurityOpt": ["no-new-privileges"],
            "ReadonlyRootfs": True,
            **host,
        },
        "Mounts": host.pop("Mounts", []),
    }


def test_read_posture_of_a_hardened_container() -> None:
    seen = read_posture(
        {
            **_attrs(Tmpfs={"/tmp": "rw"}),
            "Mounts": [
                {"Destination": "/etc/traefik", "RW": False},
                {"Destination": "/data", "RW": True},
            ],
        },
        uid=1000,
    )
    assert seen.name == "ptc-x-app"
    assert (seen.non_root, seen.cap_drop_all, seen.no_new_privileges, seen.read_only_root) == (
        True,
        True,
        True,
        True,
    )
    assert seen.cap_add == ()
    assert seen.writable_paths == ("/data", "/tmp")
    assert seen.departures == () and seen.exception is None


def test_the_bounding_set_decides_cap_drop_all_where_the_process_is_seen() -> None:
    """Podman lists every dropped capability instead of ALL: the process's CapBnd is the
    evidence; without the process, only an explicit ALL counts."""
    podman_style = _attrs(CapDrop=["CAP_CHOWN", "CAP_NET_RAW", "CAP_SETUID"])
    assert read_posture(podman_style, uid=65532, cap_bound=0).cap_drop_all
    assert not read_posture(podman_style, uid=65532).cap_drop_all
    assert not read_posture(_attrs(), uid=65532, cap_bound=0x400).cap_drop_all


def test_read_posture_tells_a_regression_from_a_named_exception() -> None:
    broken = read_posture(_attrs(user="", CapAdd=["NET_ADMIN"], ReadonlyRootfs=False))
    assert broken.unexcused == ("non_root", "cap_add", "read_only_root")
    excused = read_posture(
        _attrs(
            user="0",
            labels=PostureException("team base needs root", user="0").labels(),
        )
    )
    assert excused.departures == ("non_root",)
    assert excused.unexcused == ()
    assert excused.exception == "team base needs root"
    # The kernel's word wins over the configured user.
    assert read_posture(_attrs(user="app"), uid=0).non_root is False
    assert not read_posture(_attrs(SecurityOpt=["no-new-privileges:false"])).no_new_privileges
    assert not read_posture(_attrs(Privileged=True)).cap_drop_all


class _FakeImages:
    def __init__(self, user: str | None) -> None:
        self.user = user

    def get(self, reference: str) -> Any:
        import docker.errors

        if self.user is None:
            raise docker.errors.ImageNotFound(reference)
        return type("Image", (), {"attrs": {"Config": {"User": self.user}}})()


class _FakeClient:
    def __init__(self, user: str | None) -> None:
        self.images = _FakeImages(user)
        self.created: list[dict[str, Any]] = []
        self.containers = self

    def create(self, image: str, **kwargs: Any) -> dict[str, Any]:
        self.created.append({"image": image, **kwargs})
        return self.created[-1]


class _FakeDockerContainer:
    """testcontainers' DockerContainer, recording what would be created."""

    made: ClassVar[list[_FakeDockerContainer]] = []

    def __init__(self, image: str, **kwargs: Any) -> None:
        self.image, self.kwargs, self.options = image, kwargs, dict[str, Any]()
        self.ports: dict[str, Any] = {}
        _FakeDockerContainer.made.append(self)

    def with_command(self, command: list[str]) -> None:
        self.kwargs["command"] = command

    def with_volume_mapping(self, source: str, target: str, mode: str) -> None:
        self.kwargs.setdefault("volumes", []).append((source, target, mode))

    def with_kwargs(self, **options: Any) -> None:
        self.options = options

    def start(self) -> None:
        pass

    def get_wrapped_container(self) -> _FakeDockerContainer:
        return self


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> _FakeClient:
    fake = _FakeClient("")  # an image without USER: root by default
    monkeypatch.setattr(containers, "client", lambda: fake)
    monkeypatch.setattr(containers, "DockerContainer", _FakeDockerContainer)
    monkeypatch.setattr(containers, "publish_host", lambda: "127.0.0.1")
    monkeypatch.setattr(containers.podman, "run_options", lambda: {})
    _FakeDockerContainer.made.clear()
    return fake


def test_run_container_applies_the_posture_even_to_a_root_image(fake_engine: _FakeClient) -> None:
    made: Any = containers.run_container("img", name="c1", labels={"run": "1"}, pids_limit=64)
    assert made.options["user"] == NONROOT_USER
    assert made.options["cap_drop"] == ["ALL"]
    assert made.options["read_only"] is True
    assert made.options["security_opt"] == ["no-new-privileges"]
    assert made.options["labels"] == {"run": "1"}
    assert made.options["pids_limit"] == 64


def test_run_container_refuses_an_unnamed_override(fake_engine: _FakeClient) -> None:
    with pytest.raises(ValueError, match="PostureException"):
        containers.run_container("img", name="c1", labels={}, user="0")
    with pytest.raises(ValueError, match="PostureException"):
        containers.run_container("img", name="c1", labels={}, cap_add=["SYS_ADMIN"])
    assert _FakeDockerContainer.made == []  # refused before anything was made


def test_run_container_runs_a_named_exception_and_labels_it(fake_engine: _FakeClient) -> None:
    made: Any = containers.run_container(
        "img",
        name="c1",
        labels={"run": "1"},
        posture_exception=PostureException("team base needs root", user="0"),
    )
    assert made.options["user"] == "0"
    assert made.options["labels"][hardening.LABEL_EXCEPTION] == "team base needs root"
    assert made.options["cap_drop"] == ["ALL"]


def test_create_container_has_the_same_posture(fake_engine: _FakeClient) -> None:
    containers.create_container("img", labels={"run": "1"}, command=["/x"], network_disabled=True)
    created = fake_engine.created[-1]
    assert created["user"] == NONROOT_USER and created["cap_drop"] == ["ALL"]
    assert created["read_only"] is True and created["network_disabled"] is True
    with pytest.raises(ValueError):
        containers.create_container("img", labels={}, command=["/x"], read_only=False)


def test_a_missing_image_is_one_line_naming_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeClient(None)
    monkeypatch.setattr(containers, "client", lambda: fake)
    with pytest.raises(CompatError, match="not present locally"):
        containers.run_container("gone:1", name="c1", labels={})
