//go:build cgo

package main

/*
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

// lookup resolves host with the C library and writes its addresses, one per
// line, into out. Formatting stays in C so Go never walks sockaddr structs.
static int lookup(const char *host, char *out, size_t outlen) {
	struct addrinfo hints, *res, *p;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM; // one entry per address, not per socket type
	out[0] = 0;
	int rc = getaddrinfo(host, NULL, &hints, &res);
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
*/
import "C"

import (
	"errors"
	"strings"
	"unsafe"
)

// cgoLookupHost calls getaddrinfo directly, so the answer is the libc's own
// (glibc or musl) and not Go's resolver, whatever GODEBUG=netdns says.
func cgoLookupHost(host string) ([]string, error) {
	chost := C.CString(host)
	defer C.free(unsafe.Pointer(chost))
	var buf [4096]C.char
	rc := C.lookup(chost, &buf[0], C.size_t(len(buf)))
	if rc != 0 {
		return nil, errors.New("getaddrinfo: " + C.GoString(C.gai_strerror(rc)))
	}
	return strings.Fields(C.GoString(&buf[0])), nil
}
