package main

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Headers Traefik's passTLSClientCert middleware sets; echoing them back lets
// a test see which client certificate reached the service.
const (
	hdrClientCertInfo = "X-Forwarded-Tls-Client-Cert-Info"
	hdrClientCert     = "X-Forwarded-Tls-Client-Cert"
)

// maxFib keeps fib(n) inside uint64 with margin (fib(93) overflows).
const maxFib = 90

// httpHandler is the main port: everything here may be reached through Traefik.
func (a *app) httpHandler() http.Handler {
	r := gin.New()
	// Use the TCP peer as ClientIP; the service trusts no proxy headers for that.
	_ = r.SetTrustedProxies(nil)
	r.Use(a.metrics.ginMiddleware, gin.Recovery())

	r.GET("/healthz", a.handleHealthz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(a.gatherer, promhttp.HandlerOpts{})))
	r.GET("/debug/compat", a.handleCompat)

	api := r.Group("/api")
	api.POST("/echo", a.handleEcho)
	api.GET("/fib/:n", handleFib)
	api.GET("/whoami", a.handleWhoami)
	return r
}

func (a *app) handleHealthz(c *gin.Context) {
	body := gin.H{"status": "ok", "linkage": cgoLinkage, "linkage_label": linkage, "hostname": a.hostname}
	if !a.healthy.Load() {
		body["status"] = "unhealthy"
		c.JSON(http.StatusServiceUnavailable, body)
		return
	}
	c.JSON(http.StatusOK, body)
}

func (a *app) handleEcho(c *gin.Context) {
	var body any
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20))
	dec.UseNumber() // echo numbers exactly as sent
	if err := dec.Decode(&body); err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": "body must be JSON: " + err.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{
		"body":             body,
		"client_cert_info": c.GetHeader(hdrClientCertInfo),
		"client_cert":      c.GetHeader(hdrClientCert),
		"hostname":         a.hostname,
	})
}

func handleFib(c *gin.Context) {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 0 || n > maxFib {
		c.JSON(http.StatusBadRequest, gin.H{"error": "n must be an integer in [0, " + strconv.Itoa(maxFib) + "]"})
		return
	}
	var x, y uint64 = 0, 1
	for i := 0; i < n; i++ {
		x, y = y, x+y
	}
	c.JSON(http.StatusOK, gin.H{"n": n, "fib": x})
}

func (a *app) handleWhoami(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{
		"host":             c.Request.Host,
		"client_cert_info": c.GetHeader(hdrClientCertInfo),
		"client_cert":      c.GetHeader(hdrClientCert),
		"remote_addr":      c.Request.RemoteAddr,
		"x_forwarded_for":  c.GetHeader("X-Forwarded-For"),
		"hostname":         a.hostname,
	})
}

// adminHandler is the separate admin port. Traefik routes only to the main
// port, so nothing behind the gateway can flip the switch.
func (a *app) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /admin/health", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("state") {
		case "healthy":
			a.setHealthy(true)
		case "unhealthy":
			a.setHealthy(false)
		default:
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "state must be healthy or unhealthy"})
			return
		}
		a.writeHealthState(w)
	})
	mux.HandleFunc("GET /admin/health", func(w http.ResponseWriter, r *http.Request) {
		a.writeHealthState(w)
	})
	return mux
}

func (a *app) writeHealthState(w http.ResponseWriter) {
	state := "healthy"
	if !a.healthy.Load() {
		state = "unhealthy"
	}
	writeJSON(w, http.StatusOK, map[string]any{"state": state})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
