package main

import (
	"os"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	demov1 "example.com/compat/service/proto/demo/v1"
)

// app holds the state the HTTP and gRPC sides share: one health switch that
// /healthz, the gRPC health service and the compat_healthy gauge all follow.
type app struct {
	healthy    atomic.Bool
	grpcHealth *health.Server
	metrics    *metrics
	gatherer   prometheus.Gatherer
	hostname   string
}

// newApp registers the service's metrics on reg and serves /metrics from
// gatherer; main passes the default registry (which already carries the Go
// and process collectors), tests a fresh one each.
func newApp(reg prometheus.Registerer, gatherer prometheus.Gatherer) *app {
	hostname, _ := os.Hostname()
	a := &app{grpcHealth: health.NewServer(), gatherer: gatherer, hostname: hostname}
	a.metrics = newMetrics(reg, a.healthy.Load)
	a.setHealthy(true)
	return a
}

// setHealthy flips the switch and mirrors it into the gRPC health service for
// the overall server ("") and for the demo service by name.
func (a *app) setHealthy(ok bool) {
	a.healthy.Store(ok)
	status := healthpb.HealthCheckResponse_NOT_SERVING
	if ok {
		status = healthpb.HealthCheckResponse_SERVING
	}
	a.grpcHealth.SetServingStatus("", status)
	a.grpcHealth.SetServingStatus(demov1.DemoService_ServiceDesc.ServiceName, status)
}
