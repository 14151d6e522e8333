// Command resolveprobe resolves one name once, with Go's own resolver or with
// the C library's getaddrinfo, and prints one JSON line: the addresses, the
// resolver's error and the elapsed time. The dns check runs it in a container
// whose /etc/resolv.conf points at the check's own name servers.
//
// The C library is called the way programs commonly call it: getaddrinfo(name,
// NULL, NULL, &res). With NULL hints glibc assumes AI_V4MAPPED|AI_ADDRCONFIG and
// musl assumes no flags (POSIX's default), which is the difference to show.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

// linkage is set at build time (-X main.linkage=static|glibc|musl).
var linkage = "unknown"

type result struct {
	Name      string   `json:"name"`
	Resolver  string   `json:"resolver"`
	Linkage   string   `json:"linkage"`
	Addrs     []string `json:"addrs"`
	Error     string   `json:"error"`
	ErrorCode string   `json:"error_code"`
	ElapsedMS float64  `json:"elapsed_ms"`
}

func main() {
	name := flag.String("resolve", "", "the name to resolve")
	resolver := flag.String("resolver", "go", "go (Go's own resolver) or libc (getaddrinfo)")
	limit := flag.Duration("limit", 60*time.Second, "give up after this long (above any resolv.conf timeout)")
	flag.Parse()
	if *name == "" || (*resolver != "go" && *resolver != "libc") {
		fmt.Fprintln(os.Stderr, "usage: resolveprobe -resolve NAME [-resolver go|libc]")
		os.Exit(2)
	}
	out := result{Name: *name, Resolver: *resolver, Linkage: linkage, Addrs: []string{}}
	start := time.Now()
	var addrs []string
	var code string
	var err error
	if *resolver == "go" {
		ctx, cancel := context.WithTimeout(context.Background(), *limit)
		addrs, err = (&net.Resolver{PreferGo: true}).LookupHost(ctx, *name)
		cancel()
		code = goErrorCode(err)
	} else {
		// getaddrinfo cannot be cancelled: the process ends at the limit instead.
		timer := time.AfterFunc(*limit, func() {
			out.Error, out.ErrorCode = "probe limit reached", "LIMIT"
			out.ElapsedMS = ms(time.Since(start))
			print(out)
			os.Exit(3)
		})
		addrs, code, err = libcLookup(*name)
		timer.Stop()
	}
	out.ElapsedMS = ms(time.Since(start))
	if addrs != nil {
		out.Addrs = addrs
	}
	if err != nil {
		out.Error, out.ErrorCode = err.Error(), code
	}
	print(out)
}

func goErrorCode(err error) string {
	var dnsErr *net.DNSError
	switch {
	case err == nil:
		return ""
	case !asDNSError(err, &dnsErr):
		return "ERROR"
	case dnsErr.IsNotFound:
		return "NOTFOUND"
	case dnsErr.IsTimeout:
		return "TIMEOUT"
	case dnsErr.IsTemporary:
		return "TEMPORARY"
	}
	return "ERROR"
}

func asDNSError(err error, target **net.DNSError) bool {
	e, ok := err.(*net.DNSError)
	if ok {
		*target = e
	}
	return ok
}

func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

func print(out result) {
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
}
