// Package main is built with -buildmode=plugin; the host looks up Greet.
package main

import "runtime"

// Greet names the toolchain, so a mismatch would be visible if one ever got
// past plugin.Open's own version check.
func Greet() string {
	return "hello from a Go plugin built with " + runtime.Version()
}

// main is required for package main but never runs in a plugin.
func main() {}
