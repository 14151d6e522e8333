//go:build cgo

package main

// The service's one cgo call: order references carry a checksum computed by a
// small C function (think of a vendor library). A cgo build links libc
// dynamically, so it needs the C library's loader in the image.

/*
#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>

// Adler-32, the same algorithm as the pure-Go fallback in checksum_nocgo.go.
static uint32_t order_checksum(const char *data, size_t len) {
	uint32_t a = 1, b = 0;
	for (size_t i = 0; i < len; i++) {
		a = (a + (unsigned char)data[i]) % 65521;
		b = (b + a) % 65521;
	}
	return (b << 16) | a;
}
*/
import "C"

import "unsafe"

const checksumImpl = "c"

func checksum(s string) uint32 {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	return uint32(C.order_checksum(cs, C.size_t(len(s))))
}
