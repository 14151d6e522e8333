// Command resolveprobe resolves one name once, with Go's own resolver or with
// the C library's getaddrinfo, and prints one JSON line: the addresses, the
// resolver's error and the elapsed time. The dns check runs it in a container
// whose /etc/resolv.conf points at the check's own name servers.
//
// With -cases it runs several cases in one container: for each, it writes the
// case's resolv.conf over -resolv-conf (a file mounted writable), runs itself
// for the one lookup (a fresh process reads resolv.conf afresh, whichever
// resolver) and prints the child's line with the case's name and the wall-clock
// window it ran in, so the name servers' queries can be told apart by case.
//
// The C library is called the way programs commonly call it: getaddrinfo(name,
// NULL, NULL, &res). With NULL hints glibc assumes AI_V4MAPPED|AI_ADDRCONFIG and
// musl assumes no flags (POSIX's default), which is the difference to show.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"time"
)

// caseGap separates one case's queries from the next one's in time.
const caseGap = 100 * time.Millisecond

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
	// Set in -cases mode only.
	Case      string `json:"case,omitempty"`
	StartedNS int64  `json:"started_ns,omitempty"`
	EndedNS   int64  `json:"ended_ns,omitempty"`
}

// batchCase is one entry of -cases: the name to resolve and the resolv.conf to do it with.
type batchCase struct {
	Case       string `json:"case"`
	Name       string `json:"name"`
	ResolvConf string `json:"resolv_conf"`
}

func main() {
	name := flag.String("resolve", "", "the name to resolve")
	resolver := flag.String("resolver", "go", "go (Go's own resolver) or libc (getaddrinfo)")
	limit := flag.Duration("limit", 60*time.Second, "give up after this long (above any resolv.conf timeout)")
	cases := flag.String("cases", "", "JSON list of {case, name, resolv_conf}: run each in turn")
	resolvConf := flag.String("resolv-conf", "/etc/resolv.conf", "where -cases writes each case's resolv.conf")
	flag.Parse()
	if (*name == "") == (*cases == "") || (*resolver != "go" && *resolver != "libc") {
		fmt.Fprintln(os.Stderr, "usage: resolveprobe (-resolve NAME | -cases JSON) [-resolver go|libc]")
		os.Exit(2)
	}
	if *cases != "" {
		os.Exit(runCases(*cases, *resolver, *resolvConf, *limit))
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

// runCases runs each case in a child process of its own after writing its
// resolv.conf; it prints the probe's own addresses first (the servers log the
// client's address), then one line per case.
func runCases(spec, resolver, resolvConf string, limit time.Duration) int {
	var cases []batchCase
	if err := json.Unmarshal([]byte(spec), &cases); err != nil {
		fmt.Fprintln(os.Stderr, "-cases:", err)
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	line, _ := json.Marshal(map[string]any{"event": "start", "addrs": ownAddrs()})
	fmt.Println(string(line))
	for i, c := range cases {
		if i > 0 {
			time.Sleep(caseGap)
		}
		// In place: the file is a bind mount, which a rename could not replace.
		if err := os.WriteFile(resolvConf, []byte(c.ResolvConf), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "resolv.conf:", err)
			return 1
		}
		out := result{Name: c.Name, Resolver: resolver, Linkage: linkage, Addrs: []string{}}
		ctx, cancel := context.WithTimeout(context.Background(), limit+5*time.Second)
		started := time.Now()
		stdout, err := exec.CommandContext(ctx, self, "-resolve", c.Name, "-resolver", resolver,
			"-limit", limit.String()).Output()
		ended := time.Now()
		cancel()
		if last := lastLine(stdout); last == nil || json.Unmarshal(last, &out) != nil {
			out.Error, out.ErrorCode = fmt.Sprintf("probe child: %v", err), "CHILD"
			out.ElapsedMS = ms(ended.Sub(started))
		}
		out.Case, out.StartedNS, out.EndedNS = c.Case, started.UnixNano(), ended.UnixNano()
		print(out)
	}
	return 0
}

func lastLine(output []byte) []byte {
	var last []byte
	scanner := bufio.NewScanner(bytes.NewReader(output))
	for scanner.Scan() {
		if line := bytes.TrimSpace(scanner.Bytes()); len(line) > 0 {
			last = append([]byte(nil), line...)
		}
	}
	return last
}

func ownAddrs() []string {
	addrs := []string{}
	found, _ := net.InterfaceAddrs()
	for _, a := range found {
		if ipnet, ok := a.(*net.IPNet); ok && !ipnet.IP.IsLoopback() {
			addrs = append(addrs, ipnet.IP.String())
		}
	}
	return addrs
}
