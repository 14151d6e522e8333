//go:build cgo

package main

// cgoLinkage says how the binary was built: with cgo it links a C library
// dynamically and needs that library's loader in the image.
const cgoLinkage = "cgo"
