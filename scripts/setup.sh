#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: system packages, a Docker engine,
# and the project's virtualenv. Every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

apt_updated=0
apt_install() {
    if ! command -v apt-get >/dev/null; then
        log "apt-get not available: install $* yourself"; return 1
    fi
    if [ "$apt_updated" = 0 ]; then
        as_root apt-get update -q >/dev/null
        apt_updated=1
    fi
    log "installing $*"
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

# Local base recipes need apt's package lists even when every tool is present.
if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial || true)" ]; then
    as_root apt-get update -q >/dev/null && apt_updated=1
fi

missing=()
command -v musl-gcc >/dev/null || missing+=(musl-tools)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
command -v gcc >/dev/null || missing+=(gcc)
command -v make >/dev/null || missing+=(make)
# The report test looks at report.html in a real headless browser.
command -v chromium >/dev/null || missing+=(chromium)
# Registry mode is tested against Debian's CNCF distribution registry on 127.0.0.1.
command -v docker-registry >/dev/null || missing+=(docker-registry)
# Remote engines are tested against engines the tests start: Podman's API service, and
# a second dockerd in a network namespace reached over tcp and over ssh (sshd is only
# run by that test, inside the namespace; installing it here starts nothing).
# (netavark and aardvark-dns are only recommended, but without them a stack's containers
# cannot resolve each other's names)
command -v podman >/dev/null || missing+=(podman netavark aardvark-dns)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null || missing+=(openssh-client)
command -v nsenter >/dev/null || missing+=(util-linux)
command -v ip >/dev/null || missing+=(iproute2)
if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi

if ! docker info >/dev/null 2>&1; then
    if ! command -v dockerd >/dev/null; then
        apt_install docker.io
    fi
    if ! docker info >/dev/null 2>&1; then
        log "starting dockerd in the background (log: /var/log/dockerd-compat.log)"
        as_root sh -c 'nohup dockerd >/var/log/dockerd-compat.log 2>&1 &'
        for _ in $(seq 1 60); do
            docker info >/dev/null 2>&1 && break
            sleep 1
        done
        if ! docker info >/dev/null 2>&1; then
            log "dockerd did not answer within 60 s; last log lines:"
            tail -n 20 /var/log/dockerd-compat.log || true
            exit 1
        fi
    fi
fi
log "docker engine: $(docker info --format '{{.ServerVersion}} ({{.Driver}})')"

if ! command -v go >/dev/null; then
    log "Go not found: install Go >= 1.22 (https://go.dev/dl) and put it on PATH"; exit 1
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    log "creating .venv"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    log "installing the package with its test extras"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    # Quiet on success; on failure pip runs again loudly so the error is visible.
    .venv/bin/python -m pip install -q -e '.[test]' >/dev/null 2>&1 \
        || .venv/bin/python -m pip install -e '.[test]'
    touch "$stamp"
fi
log "ready"
