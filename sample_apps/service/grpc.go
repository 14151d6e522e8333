package main

import (
	"context"
	"runtime"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"

	demov1 "example.com/compat/service/proto/demo/v1"
)

// grpcServer is plaintext: Traefik terminates TLS (and mTLS) and speaks h2c to
// the backend, which is also the only way its gRPC health checks can dial.
func (a *app) grpcServer() *grpc.Server {
	s := grpc.NewServer(grpc.UnaryInterceptor(a.metrics.grpcInterceptor))
	healthpb.RegisterHealthServer(s, a.grpcHealth)
	demov1.RegisterDemoServiceServer(s, &demoServer{app: a})
	// Reflection lets grpcurl and similar tools call the service while
	// debugging a base without the .proto at hand.
	reflection.Register(s)
	return s
}

type demoServer struct {
	demov1.UnimplementedDemoServiceServer
	app *app
}

func (d *demoServer) Echo(ctx context.Context, req *demov1.EchoRequest) (*demov1.EchoResponse, error) {
	var certInfo string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		// gRPC metadata keys are lower case; Traefik's header arrives as this.
		if v := md.Get("x-forwarded-tls-client-cert-info"); len(v) > 0 {
			certInfo = v[0]
		}
	}
	return &demov1.EchoResponse{
		Message:        req.GetMessage(),
		Hostname:       d.app.hostname,
		Linkage:        cgoLinkage,
		LinkageLabel:   linkage,
		GoVersion:      runtime.Version(),
		ClientCertInfo: certInfo,
	}, nil
}
