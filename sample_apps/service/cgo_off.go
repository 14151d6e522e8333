//go:build !cgo

package main

// cgoLinkage says how the binary was built: without cgo the binary is static
// and needs nothing from the image.
const cgoLinkage = "static"
