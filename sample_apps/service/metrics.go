package main

import (
	"context"
	"runtime"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// metrics are the service's own collectors, next to the Go and process
// collectors of the registry they are registered on.
type metrics struct {
	httpRequests *prometheus.CounterVec
	httpLatency  *prometheus.HistogramVec
	grpcRequests *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, healthy func() bool) *metrics {
	m := &metrics{
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "compat_http_requests_total",
			Help: "HTTP requests served on the main port, by route template and status code.",
		}, []string{"route", "code"}),
		httpLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "compat_http_request_duration_seconds",
			Help:    "Latency of HTTP requests served on the main port, by route template.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		grpcRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "compat_grpc_requests_total",
			Help: "Unary gRPC calls served, by full method name and status code.",
		}, []string{"method", "code"}),
	}
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "compat_build_info",
		Help: "Always 1; the labels say how the binary was built.",
	}, []string{"linkage", "linkage_label", "go_version"})
	buildInfo.WithLabelValues(cgoLinkage, linkage, runtime.Version()).Set(1)
	healthGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "compat_healthy",
		Help: "1 while the health switch is healthy, 0 while it is flipped to unhealthy.",
	}, func() float64 {
		if healthy() {
			return 1
		}
		return 0
	})
	reg.MustRegister(m.httpRequests, m.httpLatency, m.grpcRequests, buildInfo, healthGauge)
	return m
}

// ginMiddleware records every request under its route template (c.FullPath),
// never the raw path, so /api/fib/1 .. /api/fib/90 stay one series and
// unknown paths collapse into "unmatched".
func (m *metrics) ginMiddleware(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m.httpRequests.WithLabelValues(route, strconv.Itoa(c.Writer.Status())).Inc()
	m.httpLatency.WithLabelValues(route).Observe(time.Since(start).Seconds())
}

// grpcInterceptor counts unary calls, including the health checks a
// gRPC-mode load balancer sends.
func (m *metrics) grpcInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	m.grpcRequests.WithLabelValues(info.FullMethod, status.Code(err).String()).Inc()
	return resp, err
}
