// Command host loads a Go plugin (-buildmode=plugin) and calls its Greet.
//
//	host /path/to/greeter.so
//
// Exit 0 and the greeting on stdout on success; exit 1 and the error on
// stderr when the plugin cannot be loaded. Loading needs a cgo-enabled,
// dynamically linked host built by the same toolchain as the plugin, and the
// C library's dynamic loader in the image; the error text says which of
// those was missing.
package main

import (
	"fmt"
	"os"
	"plugin"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: host PLUGIN.so")
		os.Exit(2)
	}
	greeting, err := load(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	fmt.Println(greeting)
}

func load(path string) (string, error) {
	p, err := plugin.Open(path)
	if err != nil {
		return "", err
	}
	sym, err := p.Lookup("Greet")
	if err != nil {
		return "", err
	}
	greet, ok := sym.(func() string)
	if !ok {
		return "", fmt.Errorf("symbol Greet is %T, want func() string", sym)
	}
	return greet(), nil
}
