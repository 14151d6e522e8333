// Command floor is the start-latency floor: the least possible HTTP service. It
// answers 200 on /healthz with net/http only (no gin, no grpc, no prometheus),
// is built static, and the suite runs it exactly like the sample service: the
// same base, network, published ports, HEALTHCHECK style (-healthcheck) and
// polling. Its create-to-first-200 is what the runtime and the network cost
// before any service code runs; the service's own start cost is the difference.
//
// Like the service it logs one "ready" line with exec -> ready as the process
// saw it (the same /proc/self/stat reading), so the floor decomposes the same way.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

var initAt = time.Now()

func main() {
	addr := flag.String("http-addr", ":8080", "listen address")
	healthcheck := flag.Bool("healthcheck", false, "GET /healthz on loopback; exit 0 on 200")
	flag.Parse()
	if *healthcheck {
		_, port, _ := net.SplitHostPort(*addr)
		client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
		resp, err := client.Get("http://127.0.0.1:" + port + "/healthz")
		if err != nil || resp.StatusCode != http.StatusOK {
			os.Exit(1)
		}
		os.Exit(0)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ready := time.Now()
	line := fmt.Sprintf(`{"msg":"ready","mode":"floor","init_unix_ns":%d,"ready_unix_ns":%d,"init_to_ready_ms":%.3f,"exec_resolution_ms":10`,
		initAt.UnixNano(), ready.UnixNano(), float64(ready.Sub(initAt).Nanoseconds())/1e6)
	if exec, err := execTime(); err == nil {
		line += fmt.Sprintf(`,"exec_unix_ns":%d,"exec_to_ready_ms":%.3f`,
			exec.UnixNano(), float64(ready.Sub(exec).Nanoseconds())/1e6)
	}
	os.Stdout.WriteString(line + "}\n")
	if err := srv.Serve(ln); err != nil {
		os.Exit(1)
	}
}

// execTime: field 22 of /proc/self/stat (clock ticks since boot, USER_HZ 100)
// against CLOCK_BOOTTIME, as wall-clock time.
func execTime() (time.Time, error) {
	raw, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return time.Time{}, err
	}
	stat := string(raw)
	fields := strings.Fields(stat[strings.LastIndexByte(stat, ')')+1:])
	if len(fields) < 20 {
		return time.Time{}, errors.New("short /proc/self/stat")
	}
	ticks, err := strconv.ParseInt(fields[19], 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	var ts syscall.Timespec
	now := time.Now()
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 7, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return time.Time{}, errno
	}
	return now.Add(-(time.Duration(ts.Nano()) - time.Duration(ticks)*10*time.Millisecond)), nil
}
