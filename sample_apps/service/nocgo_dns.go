//go:build !cgo

package main

import "errors"

// cgoLookupHost has no C library to ask in a static build.
func cgoLookupHost(string) ([]string, error) {
	return nil, errors.New("cgo resolver unavailable: static build")
}
