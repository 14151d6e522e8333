// Package starttime stamps the process's own start, so the service can say how long
// it took from exec to listeners ready as the process itself saw it.
//
//   - Exec: when the kernel started the process (field 22 of /proc/self/stat, in
//     clock ticks since boot, turned into wall-clock time against CLOCK_BOOTTIME).
//     Resolution: one clock tick (USER_HZ, 100 per second on Linux: 10 ms).
//     Careful: the kernel stamps the fork, and execve keeps it. For a child the Go
//     sampler starts, fork and exec are microseconds apart; for a container's first
//     process it is the runtime's fork of runc init, often hundreds of ms before
//     the binary is exec'd (measured here), so harnesses end the engine's part at
//     Init instead.
//   - Init: the wall clock when this package was initialized. Go initializes
//     ready packages in import-path order, so example.com/... runs before the
//     third-party inits (github.com/gin-gonic/..., google.golang.org/grpc/...):
//     Init -> ready covers their init cost with sub-millisecond resolution.
package starttime

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// Init is the wall-clock time of this package's initialization.
var Init = time.Now()

// TickMS is the resolution of Exec in milliseconds (USER_HZ = 100 on Linux).
const TickMS = 10.0

const clockBoottime = 7 // CLOCK_BOOTTIME (linux/time.h)

// Exec is when the kernel started this process, as wall-clock time.
func Exec() (time.Time, error) {
	raw, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return time.Time{}, err
	}
	ticks, err := startTicks(string(raw))
	if err != nil {
		return time.Time{}, err
	}
	var ts syscall.Timespec
	now := time.Now()
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockBoottime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return time.Time{}, errno
	}
	sinceBoot := time.Duration(ts.Nano())
	started := time.Duration(ticks) * (time.Second / 100)
	return now.Add(-(sinceBoot - started)), nil
}

// startTicks reads field 22 (starttime) of a /proc/<pid>/stat line; the command
// name (field 2) is in parentheses and may hold spaces, so count after the last ")".
func startTicks(stat string) (int64, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("malformed /proc/self/stat")
	}
	fields := strings.Fields(stat[end+1:])
	const index = 22 - 3 // fields after ")" start at field 3 (state)
	if len(fields) <= index {
		return 0, errors.New("short /proc/self/stat")
	}
	return strconv.ParseInt(fields[index], 10, 64)
}

// Report is what the process says about its own start (JSON in /debug/compat and
// in the "ready" log line).
type Report struct {
	Mode             string  `json:"mode"`
	ExecUnixNS       int64   `json:"exec_unix_ns"`
	InitUnixNS       int64   `json:"init_unix_ns"`
	ReadyUnixNS      int64   `json:"ready_unix_ns"`
	ExecToReadyMS    float64 `json:"exec_to_ready_ms"`
	InitToReadyMS    float64 `json:"init_to_ready_ms"`
	ExecResolutionMS float64 `json:"exec_resolution_ms"`
	ExecError        string  `json:"exec_error,omitempty"`
}

// Ready stamps "listeners ready" now.
func Ready(mode string) Report {
	ready := time.Now()
	r := Report{
		Mode:             mode,
		InitUnixNS:       Init.UnixNano(),
		ReadyUnixNS:      ready.UnixNano(),
		InitToReadyMS:    ms(ready.Sub(Init)),
		ExecResolutionMS: TickMS,
	}
	if exec, err := Exec(); err == nil {
		r.ExecUnixNS = exec.UnixNano()
		r.ExecToReadyMS = ms(ready.Sub(exec))
	} else {
		r.ExecError = err.Error()
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
