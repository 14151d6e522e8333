package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	demov1 "example.com/compat/service/proto/demo/v1"
)

// newTestApp uses a fresh registry per test, shaped like the default one
// (Go + process collectors), so tests never collide on registration.
func newTestApp(t *testing.T) *app {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return newApp(reg, reg)
}

func do(t *testing.T, h http.Handler, method, target string, body io.Reader, hdr map[string]string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: bad JSON %q: %v", method, target, rec.Body.String(), err)
		}
	}
	return rec, out
}

func grpcStatus(t *testing.T, a *app, service string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	resp, err := a.grpcHealth.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		t.Fatalf("health check %q: %v", service, err)
	}
	return resp.GetStatus()
}

func TestHealthzFlip(t *testing.T) {
	a := newTestApp(t)
	h, admin := a.httpHandler(), a.adminHandler()
	demo := demov1.DemoService_ServiceDesc.ServiceName

	steps := []struct {
		state    string
		wantCode int
		wantBody string
		wantGRPC healthpb.HealthCheckResponse_ServingStatus
	}{
		{"unhealthy", http.StatusServiceUnavailable, "unhealthy", healthpb.HealthCheckResponse_NOT_SERVING},
		{"healthy", http.StatusOK, "ok", healthpb.HealthCheckResponse_SERVING},
	}
	if rec, body := do(t, h, "GET", "/healthz", nil, nil); rec.Code != 200 || body["status"] != "ok" {
		t.Fatalf("initial /healthz = %d %v", rec.Code, body)
	}
	for _, s := range steps {
		rec, body := do(t, admin, "POST", "/admin/health?state="+s.state, nil, nil)
		if rec.Code != 200 || body["state"] != s.state {
			t.Fatalf("flip to %s = %d %v", s.state, rec.Code, body)
		}
		rec, body = do(t, h, "GET", "/healthz", nil, nil)
		if rec.Code != s.wantCode || body["status"] != s.wantBody {
			t.Errorf("after %s: /healthz = %d %v", s.state, rec.Code, body)
		}
		for _, svc := range []string{"", demo} {
			if got := grpcStatus(t, a, svc); got != s.wantGRPC {
				t.Errorf("after %s: gRPC health %q = %v, want %v", s.state, svc, got, s.wantGRPC)
			}
		}
	}
	if rec, _ := do(t, admin, "POST", "/admin/health?state=maybe", nil, nil); rec.Code != http.StatusBadRequest {
		t.Errorf("bad state: code %d, want 400", rec.Code)
	}
	if rec, _ := do(t, admin, "DELETE", "/admin/health", nil, nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: code %d, want 405", rec.Code)
	}
	// The main port must not expose the switch.
	if rec, _ := do(t, h, "POST", "/admin/health?state=unhealthy", nil, nil); rec.Code != http.StatusNotFound {
		t.Errorf("admin route on main port: code %d, want 404", rec.Code)
	}
}

func TestFibBounds(t *testing.T) {
	h := newTestApp(t).httpHandler()
	for _, tc := range []struct {
		n    string
		code int
		fib  string
	}{
		{"0", 200, "0"}, {"1", 200, "1"}, {"10", 200, "55"},
		{"90", 200, "2880067194370816120"},
		{"91", 400, ""}, {"-1", 400, ""}, {"abc", 400, ""}, {"1e3", 400, ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/fib/"+tc.n, nil))
		if rec.Code != tc.code {
			t.Errorf("fib(%s): code %d, want %d", tc.n, rec.Code, tc.code)
			continue
		}
		if tc.code == 200 {
			// Decode as json.Number: fib(90) does not fit a float64 exactly.
			var out struct{ Fib json.Number }
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Fib.String() != tc.fib {
				t.Errorf("fib(%s) = %s (%v), want %s", tc.n, rec.Body.String(), err, tc.fib)
			}
		}
	}
}

func TestMetricsExposition(t *testing.T) {
	a := newTestApp(t)
	h := a.httpHandler()
	do(t, h, "GET", "/api/fib/5", nil, nil)
	do(t, h, "GET", "/api/fib/500", nil, nil)
	do(t, h, "GET", "/no/such/path", nil, nil)
	a.setHealthy(false)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	text := rec.Body.String()
	for _, want := range []string{
		"# HELP compat_http_requests_total ",
		"# TYPE compat_http_request_duration_seconds histogram",
		`compat_http_requests_total{code="200",route="/api/fib/:n"} 1`,
		`compat_http_requests_total{code="400",route="/api/fib/:n"} 1`,
		`compat_http_requests_total{code="404",route="unmatched"} 1`,
		"compat_healthy 0",
		`compat_build_info{go_version="`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "compat_http_request_duration_seconds"} {
		if _, ok := families[name]; !ok {
			t.Errorf("/metrics lacks family %s", name)
		}
	}
}

func TestEchoAndWhoami(t *testing.T) {
	h := newTestApp(t).httpHandler()
	hdr := map[string]string{
		"Content-Type":    "application/json",
		hdrClientCertInfo: `Subject="CN=client-a"`,
		hdrClientCert:     "MIIB...",
	}
	rec, out := do(t, h, "POST", "/api/echo", strings.NewReader(`{"msg":"hi","n":12345678901234567890}`), hdr)
	if rec.Code != 200 || out["client_cert_info"] != `Subject="CN=client-a"` || out["client_cert"] != "MIIB..." {
		t.Fatalf("echo = %d %v", rec.Code, out)
	}
	if !strings.Contains(rec.Body.String(), `"n":12345678901234567890`) {
		t.Errorf("echo changed a large number: %s", rec.Body.String())
	}
	if rec, _ := do(t, h, "POST", "/api/echo", strings.NewReader(`{not json`), nil); rec.Code != 400 {
		t.Errorf("bad JSON: code %d, want 400", rec.Code)
	}

	req := httptest.NewRequest("GET", "/api/whoami", nil)
	req.Host = "svc.compat.test"
	req.Header.Set(hdrClientCertInfo, "x")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var who map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &who)
	if w.Code != 200 || who["host"] != "svc.compat.test" || who["client_cert_info"] != "x" {
		t.Errorf("whoami = %d %v", w.Code, who)
	}
}

func TestCompat(t *testing.T) {
	h := newTestApp(t).httpHandler()
	rec, out := do(t, h, "GET", "/debug/compat?host=localhost", nil, nil)
	if rec.Code != 200 {
		t.Fatalf("/debug/compat = %d", rec.Code)
	}
	for _, k := range []string{"uid", "gid", "euid", "linkage", "cgo_enabled", "go_version", "linkage_label",
		"timezones", "tzdata_embedded", "cert_pool", "ssl_cert_file", "dns", "hostname", "pid"} {
		if _, ok := out[k]; !ok {
			t.Errorf("/debug/compat lacks %q", k)
		}
	}
	if out["linkage"] != cgoLinkage || out["cgo_enabled"] != (cgoLinkage == "cgo") {
		t.Errorf("linkage = %v, cgo_enabled = %v", out["linkage"], out["cgo_enabled"])
	}
	tz := out["timezones"].(map[string]any)
	for _, z := range probeZones {
		if _, ok := tz[z].(map[string]any)["ok"].(bool); !ok {
			t.Errorf("timezones[%s] has no ok bool: %v", z, tz[z])
		}
	}
	dns := out["dns"].(map[string]any)
	goRes := dns["go"].(map[string]any)
	if goRes["error"] != "" || len(goRes["addrs"].([]any)) == 0 {
		t.Errorf("Go resolver for localhost: %v", goRes)
	}
	cgoRes := dns["cgo"].(map[string]any)
	if cgoLinkage == "static" && cgoRes["error"] != "cgo resolver unavailable: static build" {
		t.Errorf("static build cgo resolver: %v", cgoRes)
	}
	if cgoLinkage == "cgo" && (cgoRes["error"] != "" || len(cgoRes["addrs"].([]any)) == 0) {
		t.Errorf("cgo resolver for localhost: %v", cgoRes)
	}
}

func TestGRPC(t *testing.T) {
	a := newTestApp(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := a.grpcServer()
	go srv.Serve(ln)
	defer srv.Stop()

	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	hc := healthpb.NewHealthClient(conn)
	if r, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v", r, err)
	}
	md := metadata.Pairs("x-forwarded-tls-client-cert-info", `Subject="CN=client-a"`)
	resp, err := demov1.NewDemoServiceClient(conn).Echo(metadata.NewOutgoingContext(ctx, md), &demov1.EchoRequest{Message: "ping"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetMessage() != "ping" || resp.GetLinkage() != cgoLinkage || resp.GetClientCertInfo() != `Subject="CN=client-a"` || resp.GetGoVersion() == "" {
		t.Errorf("Echo = %v", resp)
	}
	a.setHealthy(false)
	r, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "compat.demo.v1.DemoService"})
	if err != nil || r.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("after flip: health = %v, %v", r, err)
	}
}

func TestProbe(t *testing.T) {
	a := newTestApp(t)
	ts := httptest.NewServer(a.httpHandler()) // binds 127.0.0.1
	defer ts.Close()
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	if err := probe(":"+port, 2*time.Second); err != nil {
		t.Errorf("healthy probe: %v", err)
	}
	a.setHealthy(false)
	if err := probe(":"+port, 2*time.Second); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("unhealthy probe: %v, want a 503 error", err)
	}
	if err := probe("no-port", time.Second); err == nil {
		t.Error("probe accepted an address without a port")
	}
}

// TestRunAndSIGTERM drives the real entry point: the start line is one JSON
// object with the bound ports, and SIGTERM ends run cleanly within the budget.
func TestRunAndSIGTERM(t *testing.T) {
	pr, pw := io.Pipe()
	logger := slog.New(slog.NewJSONHandler(pw, nil))
	// run registers on the default registry; give it a fresh one.
	oldReg, oldGath := prometheus.DefaultRegisterer, prometheus.DefaultGatherer
	reg := prometheus.NewRegistry()
	prometheus.DefaultRegisterer, prometheus.DefaultGatherer = reg, reg
	defer func() { prometheus.DefaultRegisterer, prometheus.DefaultGatherer = oldReg, oldGath }()

	done := make(chan error, 1)
	go func() {
		at := addrs{http: "127.0.0.1:0", admin: "127.0.0.1:0", grpc: "127.0.0.1:0"}
		done <- run(logger, modeMixed, at, 3*time.Second, false)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	if !sc.Scan() {
		t.Fatal("no start line")
	}
	var start map[string]any
	if err := json.Unmarshal(sc.Bytes(), &start); err != nil || start["msg"] != "listening" {
		t.Fatalf("start line %q: %v", sc.Text(), err)
	}
	if !sc.Scan() {
		t.Fatal("no ready line")
	}
	var ready map[string]any
	if err := json.Unmarshal(sc.Bytes(), &ready); err != nil || ready["msg"] != "ready" {
		t.Fatalf("ready line %q: %v", sc.Text(), err)
	}
	if ready["mode"] != modeMixed || ready["exec_to_ready_ms"].(float64) <= 0 {
		t.Fatalf("ready line %v", ready)
	}
	go io.Copy(io.Discard, pr) // keep draining so later log lines never block run

	resp, err := http.Get("http://" + start["http_addr"].(string) + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/healthz = %d", resp.StatusCode)
	}

	began := time.Now()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not stop within 5 s of SIGTERM")
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("shutdown took %v", d)
	}
}

// TestModesServeWhatTheySay: gin binds no gRPC port, grpc no HTTP port, and
// -exit-when-ready returns at once with the ready line logged.
func TestModesServeWhatTheySay(t *testing.T) {
	for _, mode := range []string{modeGin, modeGRPC, modeMixed} {
		var buf strings.Builder
		logger := slog.New(slog.NewJSONHandler(&buf, nil))
		oldReg, oldGath := prometheus.DefaultRegisterer, prometheus.DefaultGatherer
		reg := prometheus.NewRegistry()
		prometheus.DefaultRegisterer, prometheus.DefaultGatherer = reg, reg
		at := addrs{http: "127.0.0.1:0", admin: "127.0.0.1:0", grpc: "127.0.0.1:0"}
		err := run(logger, mode, at, time.Second, true)
		prometheus.DefaultRegisterer, prometheus.DefaultGatherer = oldReg, oldGath
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		var listening map[string]any
		if err := json.Unmarshal([]byte(strings.SplitN(buf.String(), "\n", 2)[0]), &listening); err != nil {
			t.Fatal(err)
		}
		if (listening["http_addr"] != "") == (mode == modeGRPC) || (listening["grpc_addr"] != "") == (mode == modeGin) {
			t.Errorf("%s listens on %v", mode, listening)
		}
		if !strings.Contains(buf.String(), `"msg":"ready"`) {
			t.Errorf("%s: no ready line in %q", mode, buf.String())
		}
	}
}
