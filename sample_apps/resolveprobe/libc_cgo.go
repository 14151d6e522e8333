//go:build cgo

package main

/*
#define _GNU_SOURCE // EAI_NODATA is a GNU extension in glibc's netdb.h
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

// resolve calls getaddrinfo with NULL hints and writes each address, one per
// line, into out (one line per socket type: Go removes the repeats).
static int resolve(const char *host, char *out, size_t outlen) {
	struct addrinfo *res, *p;
	out[0] = 0;
	int rc = getaddrinfo(host, NULL, NULL, &res);
	if (rc != 0) return rc;
	size_t used = 0;
	for (p = res; p != NULL; p = p->ai_next) {
		char buf[INET6_ADDRSTRLEN];
		const void *addr = NULL;
		if (p->ai_family == AF_INET) addr = &((struct sockaddr_in *)p->ai_addr)->sin_addr;
		if (p->ai_family == AF_INET6) addr = &((struct sockaddr_in6 *)p->ai_addr)->sin6_addr;
		if (addr == NULL || inet_ntop(p->ai_family, addr, buf, sizeof buf) == NULL) continue;
		size_t n = strlen(buf);
		if (used + n + 2 > outlen) break;
		memcpy(out + used, buf, n);
		used += n;
		out[used++] = '\n';
		out[used] = 0;
	}
	freeaddrinfo(res);
	return 0;
}

static const char *eai_name(int rc) {
	switch (rc) {
	case EAI_AGAIN: return "EAI_AGAIN";
	case EAI_FAIL: return "EAI_FAIL";
	case EAI_NONAME: return "EAI_NONAME";
#ifdef EAI_NODATA
	case EAI_NODATA: return "EAI_NODATA";
#endif
	case EAI_FAMILY: return "EAI_FAMILY";
	case EAI_MEMORY: return "EAI_MEMORY";
	case EAI_SYSTEM: return "EAI_SYSTEM";
	default: return "EAI_OTHER";
	}
}
*/
import "C"

import (
	"errors"
	"strings"
	"unsafe"
)

// libcLookup asks the C library (glibc or musl) directly, whatever GODEBUG says.
func libcLookup(host string) ([]string, string, error) {
	chost := C.CString(host)
	defer C.free(unsafe.Pointer(chost))
	buf := make([]C.char, 1<<16)
	rc := C.resolve(chost, &buf[0], C.size_t(len(buf)))
	if rc != 0 {
		return nil, C.GoString(C.eai_name(rc)), errors.New("getaddrinfo: " + C.GoString(C.gai_strerror(rc)))
	}
	seen := map[string]bool{}
	addrs := []string{}
	for _, addr := range strings.Fields(C.GoString(&buf[0])) {
		if !seen[addr] {
			seen[addr] = true
			addrs = append(addrs, addr)
		}
	}
	return addrs, "", nil
}
