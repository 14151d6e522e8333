package main

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"os/user"
	"runtime"
	"time"

	"github.com/gin-gonic/gin"
)

// The zones the suite checks; both must load from the base's zoneinfo or from
// tzdata embedded with -tags tzdata.
var probeZones = []string{"America/New_York", "Europe/Berlin"}

// certFiles is crypto/x509's list for Linux (root_linux.go): it reads the
// first of these it can and ignores the rest. SSL_CERT_FILE replaces the list.
var certFiles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
	"/etc/pki/tls/cacert.pem",
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/cert.pem",
}

type tzResult struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

type certPoolResult struct {
	Size       int    `json:"size"`
	Error      string `json:"error"`
	BundleFile string `json:"bundle_file"` // "" if none of the candidates is readable
}

type dnsResult struct {
	Addrs      []string `json:"addrs"`
	Error      string   `json:"error"`
	DurationMS float64  `json:"duration_ms"`
}

// handleCompat reports what the process sees of its base image. Every probe
// records its error instead of failing, so one missing file (no zoneinfo, no
// CA bundle, no /etc/passwd) never hides the other answers.
func (a *app) handleCompat(c *gin.Context) {
	host := c.DefaultQuery("host", "localhost")

	tz := make(map[string]tzResult, len(probeZones))
	for _, name := range probeZones {
		_, err := time.LoadLocation(name)
		tz[name] = tzResult{OK: err == nil, Error: errString(err)}
	}

	username, userErr := "", ""
	if u, err := user.Current(); err == nil {
		username = u.Username
	} else {
		userErr = err.Error()
	}

	c.JSON(http.StatusOK, gin.H{
		"uid":             os.Getuid(),
		"gid":             os.Getgid(),
		"euid":            os.Geteuid(),
		"egid":            os.Getegid(),
		"username":        username,
		"username_error":  userErr,
		"pid":             os.Getpid(),
		"hostname":        a.hostname,
		"linkage":         cgoLinkage,
		"cgo_enabled":     cgoLinkage == "cgo",
		"linkage_label":   linkage,
		"go_version":      runtime.Version(),
		"goos":            runtime.GOOS,
		"goarch":          runtime.GOARCH,
		"timezones":       tz,
		"tzdata_embedded": tzdataEmbedded,
		"zoneinfo_dir":    dirExists("/usr/share/zoneinfo"),
		"cert_pool":       certPool(),
		"ssl_cert_file":   os.Getenv("SSL_CERT_FILE"),
		"ssl_cert_dir":    os.Getenv("SSL_CERT_DIR"),
		"godebug":         os.Getenv("GODEBUG"),
		"start":           startReport.Load(), // exec/init -> ready, as this process saw it
		"dns": gin.H{
			"host": host,
			"go":   lookupGo(c.Request.Context(), host),
			"cgo":  lookupCgo(c.Request.Context(), host),
		},
	})
}

func certPool() certPoolResult {
	var res certPoolResult
	candidates := certFiles
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		candidates = []string{f}
	}
	for _, f := range candidates {
		// Readable, not merely present: x509 moves on past unreadable files.
		if fh, err := os.Open(f); err == nil {
			fh.Close()
			res.BundleFile = f
			break
		}
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		res.Error = err.Error()
		return res
	}
	// CertPool has no public size. Subjects is deprecated only because it
	// misses the platform verifier's roots on macOS and Windows; on Linux the
	// pool is exactly what was loaded from the files above.
	res.Size = len(pool.Subjects()) //nolint:staticcheck // SA1019: see above
	return res
}

// lookupGo forces Go's own resolver, whatever GODEBUG=netdns says.
func lookupGo(ctx context.Context, host string) dnsResult {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	addrs, err := (&net.Resolver{PreferGo: true}).LookupHost(ctx, host)
	return dnsResult{Addrs: nonNil(addrs), Error: errString(err), DurationMS: ms(time.Since(start))}
}

// lookupCgo asks the C library's getaddrinfo (glibc or musl, whichever the
// binary is linked against). getaddrinfo cannot be cancelled, so a hung
// lookup is abandoned after the timeout rather than waited for.
func lookupCgo(ctx context.Context, host string) dnsResult {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	done := make(chan dnsResult, 1)
	go func() {
		addrs, err := cgoLookupHost(host)
		done <- dnsResult{Addrs: nonNil(addrs), Error: errString(err)}
	}()
	select {
	case r := <-done:
		r.DurationMS = ms(time.Since(start))
		return r
	case <-ctx.Done():
		return dnsResult{Addrs: []string{}, Error: "getaddrinfo: " + ctx.Err().Error(), DurationMS: ms(time.Since(start))}
	}
}

func dirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// nonNil keeps "addrs" a JSON list even when the lookup failed.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
