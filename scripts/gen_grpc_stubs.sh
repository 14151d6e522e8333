#!/usr/bin/env bash
# Regenerate the Python stubs of the sample's demo RPC (needs grpcio-tools in .venv:
# pip install 'grpcio-tools~=1.85.0'). The generated files are committed.
set -euo pipefail
cd "$(dirname "$0")/.."
out=pytest_traefik_compat/grpc_stubs
.venv/bin/python -m grpc_tools.protoc -I sample_apps/service/proto \
    --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" demo/v1/demo.proto
# protoc writes a top-level import; make it package-relative.
sed -i 's/^from demo\.v1 import demo_pb2/from pytest_traefik_compat.grpc_stubs.demo.v1 import demo_pb2/' \
    "$out/demo/v1/demo_pb2_grpc.py"
touch "$out/__init__.py" "$out/demo/__init__.py" "$out/demo/v1/__init__.py"
