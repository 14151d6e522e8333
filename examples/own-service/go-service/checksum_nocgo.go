//go:build !cgo

package main

import "hash/adler32"

// Without cgo (CGO_ENABLED=0, the static linkage) the checksum is computed in Go:
// the same Adler-32 as the C function, so references agree across linkages.
const checksumImpl = "go"

func checksum(s string) uint32 { return adler32.Checksum([]byte(s)) }
