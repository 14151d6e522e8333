// Command floor prints "ok" and exits 0 at once. Built static
// (CGO_ENABLED=0), its container start-to-exit time is the floor the
// service's startup latency on the same base is measured against: what the
// runtime costs before any service code runs.
package main

import "os"

func main() {
	// os.Stdout.WriteString rather than fmt keeps the binary minimal.
	os.Stdout.WriteString("ok\n")
}
