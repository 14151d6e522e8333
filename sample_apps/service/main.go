// Command service is the sample Go service the compatibility suite builds onto
// each base image: a gin HTTP server and a grpc-go server in one process, the
// common "REST + gRPC" shape, plus the diagnostics the suite reads.
//
// Ports (all unprivileged, so the process runs as any uid):
//
//	-http-addr  :8080  gin: /healthz, /metrics, /api/*, /debug/compat (Traefik routes here)
//	-admin-addr :8081  admin: POST /admin/health?state=... (never routed by Traefik)
//	-grpc-addr  :9090  gRPC, plaintext h2c: grpc.health.v1 + compat.demo.v1.DemoService
//
// With -healthcheck the binary probes a running instance instead of serving,
// so images without curl or a shell can still have a Docker HEALTHCHECK.
package main

//go:generate sh ./regenerate.sh

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
)

// linkage is the build's label, set with -ldflags "-X main.linkage=musl" (or
// static, glibc, ...). The binary cannot tell glibc from musl by itself, so
// the builder says which one it used.
var linkage = "unknown"

func main() {
	httpAddr := flag.String("http-addr", ":8080", "listen address of the gin HTTP server")
	adminAddr := flag.String("admin-addr", ":8081", "listen address of the admin HTTP server (health switch)")
	grpcAddr := flag.String("grpc-addr", ":9090", "listen address of the plaintext (h2c) gRPC server")
	healthcheck := flag.Bool("healthcheck", false, "probe http://127.0.0.1:<http-addr port>/healthz and exit 0 if it answers 200, else 1")
	shutdownTimeout := flag.Duration("shutdown-timeout", 4*time.Second, "how long to drain connections after SIGTERM/SIGINT before closing them")
	flag.Parse()

	if *healthcheck {
		if err := probe(*httpAddr, 2*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "healthcheck:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}

	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	if err := run(logger, *httpAddr, *adminAddr, *grpcAddr, *shutdownTimeout); err != nil {
		logger.Error("exiting", "error", err.Error())
		os.Exit(1)
	}
}

func run(logger *slog.Logger, httpAddr, adminAddr, grpcAddr string, shutdownTimeout time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	// Listen before logging, so the start line means the ports are bound and
	// a port clash fails the process at once.
	httpLn, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return err
	}
	adminLn, err := net.Listen("tcp", adminAddr)
	if err != nil {
		return err
	}
	grpcLn, err := net.Listen("tcp", grpcAddr)
	if err != nil {
		return err
	}

	a := newApp(prometheus.DefaultRegisterer, prometheus.DefaultGatherer)
	httpSrv := &http.Server{Handler: a.httpHandler(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 60 * time.Second}
	adminSrv := &http.Server{Handler: a.adminHandler(), ReadHeaderTimeout: 5 * time.Second}
	grpcSrv := a.grpcServer()

	errc := make(chan error, 3)
	go func() { errc <- serveHTTP(httpSrv, httpLn) }()
	go func() { errc <- serveHTTP(adminSrv, adminLn) }()
	go func() { errc <- grpcSrv.Serve(grpcLn) }()

	logger.Info("listening",
		"http_addr", httpLn.Addr().String(),
		"admin_addr", adminLn.Addr().String(),
		"grpc_addr", grpcLn.Addr().String(),
		"linkage", cgoLinkage,
		"linkage_label", linkage,
		"go_version", runtime.Version(),
		"pid", os.Getpid(),
		"uid", os.Getuid(),
	)

	var serveErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down", "timeout", shutdownTimeout.String())
	case serveErr = <-errc:
		logger.Error("server failed", "error", serveErr.Error())
	}
	stop() // a second signal now kills the process the default way

	shutdown(a, httpSrv, adminSrv, grpcSrv, shutdownTimeout)
	logger.Info("stopped")
	return serveErr
}

// serveHTTP hides the http.ErrServerClosed that every clean Shutdown causes.
func serveHTTP(srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// shutdown drains all three servers concurrently within one deadline, then
// closes whatever is left, so the process exits well inside Docker's default
// 10 s stop grace period.
func shutdown(a *app, httpSrv, adminSrv *http.Server, grpcSrv *grpc.Server, timeout time.Duration) {
	// Report NOT_SERVING first, so a gRPC health-checking gateway stops
	// sending new calls while the old ones drain.
	a.grpcHealth.Shutdown()

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	var wg sync.WaitGroup
	for _, srv := range []*http.Server{httpSrv, adminSrv} {
		wg.Add(1)
		go func(srv *http.Server) {
			defer wg.Done()
			if srv.Shutdown(ctx) != nil {
				srv.Close() // deadline passed: drop the remaining connections
			}
		}(srv)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		done := make(chan struct{})
		go func() { grpcSrv.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			grpcSrv.Stop() // also ends the pending GracefulStop
			<-done
		}
	}()
	wg.Wait()
}

func init() {
	// Release mode before any engine exists: no per-route debug lines on
	// stdout, which must carry only the JSON log.
	gin.SetMode(gin.ReleaseMode)
}
