#!/bin/sh
# Regenerates the committed Go stubs (proto/demo/v1/demo.pb.go and
# demo_grpc.pb.go) from proto/demo/v1/demo.proto. The stubs are committed so
# that building the service needs only the Go toolchain, not protoc.
#
# Tools (the versions the committed stubs were generated with):
#   apt-get install -y protobuf-compiler    # libprotoc 3.21.12 (Debian 12)
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
# and $(go env GOPATH)/bin on PATH.
set -eu
cd "$(dirname "$0")"
protoc -I proto \
	--go_out=proto --go_opt=paths=source_relative \
	--go-grpc_out=proto --go-grpc_opt=paths=source_relative \
	demo/v1/demo.proto
