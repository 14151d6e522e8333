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
//
// -mode picks what it serves: gin (the HTTP and admin servers), grpc (the gRPC
// server only) or mixed (all three, the default). When the listeners of the mode
// are bound it logs one "ready" line with its own start figures (exec and init
// to ready, see internal/starttime), also in /debug/compat under "start".
// -exit-when-ready exits 0 right after that line; -start-samples=N runs the
// binary N times that way (one after another, on ephemeral loopback ports) and
// prints one JSON line with every child's figures: the in-process start per mode.
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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"example.com/compat/service/internal/starttime"
)

// Modes of -mode: what the process serves.
const (
	modeGin   = "gin"
	modeGRPC  = "grpc"
	modeMixed = "mixed"
)

// startReport is the process's own start, set once its listeners are ready.
var startReport atomic.Pointer[starttime.Report]

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
	mode := flag.String("mode", modeMixed, "what to serve: gin (HTTP + admin), grpc (gRPC only) or mixed (all)")
	exitWhenReady := flag.Bool("exit-when-ready", false, "log the ready line, then shut down and exit 0")
	startSamples := flag.Int("start-samples", 0, "run this binary N times with -exit-when-ready and print their start figures as one JSON line")
	flag.Parse()

	if *mode != modeGin && *mode != modeGRPC && *mode != modeMixed {
		fmt.Fprintf(os.Stderr, "unknown -mode %q: gin, grpc or mixed\n", *mode)
		os.Exit(2)
	}
	if *startSamples > 0 {
		if err := sampleStarts(os.Stdout, *mode, *startSamples); err != nil {
			fmt.Fprintln(os.Stderr, "start-samples:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}

	if *healthcheck {
		if err := probe(*httpAddr, 2*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "healthcheck:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}

	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	addrs := addrs{http: *httpAddr, admin: *adminAddr, grpc: *grpcAddr}
	if err := run(logger, *mode, addrs, *shutdownTimeout, *exitWhenReady); err != nil {
		logger.Error("exiting", "error", err.Error())
		os.Exit(1)
	}
}

type addrs struct{ http, admin, grpc string }

func run(logger *slog.Logger, mode string, at addrs, shutdownTimeout time.Duration, exitWhenReady bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	withHTTP, withGRPC := mode != modeGRPC, mode != modeGin
	// Listen before logging, so the start line means the ports are bound and
	// a port clash fails the process at once.
	var httpLn, adminLn, grpcLn net.Listener
	var err error
	if withHTTP {
		if httpLn, err = net.Listen("tcp", at.http); err != nil {
			return err
		}
		if adminLn, err = net.Listen("tcp", at.admin); err != nil {
			return err
		}
	}
	if withGRPC {
		if grpcLn, err = net.Listen("tcp", at.grpc); err != nil {
			return err
		}
	}

	a := newApp(prometheus.DefaultRegisterer, prometheus.DefaultGatherer)
	var httpSrv, adminSrv *http.Server
	var grpcSrv *grpc.Server
	errc := make(chan error, 3)
	if withHTTP {
		httpSrv = &http.Server{Handler: a.httpHandler(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 60 * time.Second}
		adminSrv = &http.Server{Handler: a.adminHandler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { errc <- serveHTTP(httpSrv, httpLn) }()
		go func() { errc <- serveHTTP(adminSrv, adminLn) }()
	}
	if withGRPC {
		grpcSrv = a.grpcServer()
		go func() { errc <- grpcSrv.Serve(grpcLn) }()
	}
	report := starttime.Ready(mode)
	startReport.Store(&report)

	logger.Info("listening",
		"mode", mode,
		"http_addr", addrOf(httpLn),
		"admin_addr", addrOf(adminLn),
		"grpc_addr", addrOf(grpcLn),
		"linkage", cgoLinkage,
		"linkage_label", linkage,
		"go_version", runtime.Version(),
		"pid", os.Getpid(),
		"uid", os.Getuid(),
	)
	// One structured line a harness can read without any port: the start as the
	// process saw it.
	logger.Info("ready",
		"mode", report.Mode,
		"exec_unix_ns", report.ExecUnixNS,
		"init_unix_ns", report.InitUnixNS,
		"ready_unix_ns", report.ReadyUnixNS,
		"exec_to_ready_ms", report.ExecToReadyMS,
		"init_to_ready_ms", report.InitToReadyMS,
		"exec_resolution_ms", report.ExecResolutionMS,
		"exec_error", report.ExecError,
	)

	var serveErr error
	if exitWhenReady {
		stop()
		shutdown(a, httpSrv, adminSrv, grpcSrv, shutdownTimeout)
		return nil
	}
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
		if srv == nil { // not served in this -mode
			continue
		}
		wg.Add(1)
		go func(srv *http.Server) {
			defer wg.Done()
			if srv.Shutdown(ctx) != nil {
				srv.Close() // deadline passed: drop the remaining connections
			}
		}(srv)
	}
	if grpcSrv == nil {
		wg.Wait()
		return
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

func addrOf(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}
