//go:build !cgo

package main

import "errors"

// libcLookup has no C library to ask in a static build.
func libcLookup(string) ([]string, string, error) {
	return nil, "UNAVAILABLE", errors.New("no C resolver: static build")
}
