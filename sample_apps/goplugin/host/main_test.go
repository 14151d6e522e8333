package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestLoadGreeter builds ../greeter as a plugin with the same toolchain and
// flags the test binary was built with, then loads it. Plugins need cgo, so
// the test skips in CGO_ENABLED=0 runs; load then only reports an error.
func TestLoadGreeter(t *testing.T) {
	if !cgoEnabled {
		if _, err := load("greeter.so"); err == nil {
			t.Fatal("a static host loaded a plugin")
		}
		t.Skip("plugins need cgo; run with CGO_ENABLED=1")
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	so := filepath.Join(t.TempDir(), "greeter.so")
	cmd := exec.Command(gobin, "build", "-buildmode=plugin", "-o", so, "../greeter")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the plugin: %v\n%s", err, out)
	}
	got, err := load(so)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "hello from a Go plugin") {
		t.Errorf("Greet() = %q", got)
	}
	if _, err := load(filepath.Join(t.TempDir(), "missing.so")); err == nil {
		t.Error("load of a missing file succeeded")
	}
}
