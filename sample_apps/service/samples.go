package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"example.com/compat/service/internal/starttime"
)

const (
	maxStartSamples = 1000
	childTimeout    = 10 * time.Second
)

// sampleStarts runs this binary n times, one after another, each with
// -exit-when-ready on ephemeral loopback ports, and writes one JSON line:
// {"mode": ..., "samples": [Report, ...]}. Each child measures itself (exec and
// init to ready), so the parent's own overhead is not in the figures.
func sampleStarts(out io.Writer, mode string, n int) error {
	if n > maxStartSamples {
		return fmt.Errorf("at most %d samples, got %d", maxStartSamples, n)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	reports := make([]starttime.Report, 0, n)
	for i := 0; i < n; i++ {
		r, err := oneStart(self, mode)
		if err != nil {
			return fmt.Errorf("sample %d: %w", i+1, err)
		}
		reports = append(reports, r)
	}
	return json.NewEncoder(out).Encode(map[string]any{"mode": mode, "samples": reports})
}

func oneStart(self, mode string) (starttime.Report, error) {
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, "-mode="+mode, "-exit-when-ready",
		"-http-addr=127.0.0.1:0", "-admin-addr=127.0.0.1:0", "-grpc-addr=127.0.0.1:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		return starttime.Report{}, fmt.Errorf("%w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	scanner := bufio.NewScanner(bytes.NewReader(stdout))
	for scanner.Scan() {
		var line struct {
			Msg string `json:"msg"`
			starttime.Report
		}
		if json.Unmarshal(scanner.Bytes(), &line) == nil && line.Msg == "ready" {
			return line.Report, nil
		}
	}
	return starttime.Report{}, fmt.Errorf("no ready line in %q", stdout)
}
