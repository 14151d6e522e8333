package main

import (
	"fmt"
	"net"
	"net/http"
	"time"
)

// probe is the -healthcheck self-probe: GET /healthz on loopback at the port
// of httpAddr. It uses 127.0.0.1 rather than "localhost" so it works on bases
// without /etc/hosts and never depends on a resolver.
func probe(httpAddr string, timeout time.Duration) error {
	_, port, err := net.SplitHostPort(httpAddr)
	if err != nil {
		return fmt.Errorf("bad -http-addr %q: %w", httpAddr, err)
	}
	// No proxy: a probe of loopback must not follow HTTP_PROXY from the image.
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
