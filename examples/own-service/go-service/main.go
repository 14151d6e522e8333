// Command orders is a small order-taking service, the kind of Go service a team
// puts behind Traefik: net/http only, one cgo call (the reference checksum, see
// checksum_cgo.go) and one time-zone lookup (Europe/Paris, for the shop's
// opening hours).
//
//	GET  /healthz       200 {"status":"ok"}
//	GET  /orders        every order, oldest first
//	POST /orders        {"item":"...","quantity":N} -> 201 with the stored order
//	GET  /orders/{id}   one order, or 404
//	GET  /info          build and runtime facts: linkage, cgo, time zone
//
// With -healthcheck the binary probes a running instance instead of serving, so
// a Docker HEALTHCHECK works on bases with no shell, curl or wget.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// linkage is set by the test plugin's builder (-X main.linkage=static|glibc|musl):
// the binary cannot tell glibc from musl by itself.
var linkage = "unknown"

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	healthcheck := flag.Bool("healthcheck", false, "GET /healthz on 127.0.0.1 at the -addr port; exit 0 on 200")
	flag.Parse()

	if *healthcheck {
		if err := probe(*addr, 2*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "healthcheck:", err)
			os.Exit(1)
		}
		return
	}
	if err := serve(*addr); err != nil {
		log.Fatal(err)
	}
}

func serve(addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	// Listen first: a port clash ends the process at once, and the log line
	// below means the port is open.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	server := &http.Server{Handler: newMux(newStore()), ReadHeaderTimeout: 5 * time.Second}
	log.Printf("orders listening on %s (linkage %s, checksum in %s)", ln.Addr(), linkage, checksumImpl)

	errs := make(chan error, 1)
	go func() { errs <- server.Serve(ln) }()
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// probe is the -healthcheck self-probe. It dials 127.0.0.1, not "localhost", so
// it needs neither /etc/hosts nor a resolver in the image.
func probe(addr string, timeout time.Duration) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("bad -addr %q: %w", addr, err)
	}
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Get("http://" + net.JoinHostPort("127.0.0.1", port) + "/healthz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz answered %s", resp.Status)
	}
	return nil
}
