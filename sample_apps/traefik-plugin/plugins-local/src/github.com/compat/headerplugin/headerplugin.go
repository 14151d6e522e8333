// Package headerplugin is a Traefik middleware plugin, interpreted by Yaegi
// inside Traefik rather than compiled into it: Traefik never loads Go .so
// plugins. It sets an X-Compat-Plugin response header, so a client behind the
// gateway can see that the plugin loaded and ran. Standard library only,
// because Yaegi interprets the source and there is no vendor directory.
package headerplugin

import (
	"context"
	"errors"
	"net/http"
)

// HeaderName is the response header the middleware sets.
const HeaderName = "X-Compat-Plugin"

// Config is the plugin's dynamic configuration:
//
//	http:
//	  middlewares:
//	    compat-header:
//	      plugin:
//	        headerplugin:      # the alias under experimental.localPlugins
//	          value: loaded
type Config struct {
	Value string `json:"value,omitempty"`
}

// CreateConfig returns the defaults Traefik fills in before applying the
// middleware's own options.
func CreateConfig() *Config {
	return &Config{Value: "loaded"}
}

// Header is the middleware instance for one configured middleware.
type Header struct {
	next  http.Handler
	name  string
	value string
}

// New builds the middleware; Traefik calls it once per configured middleware.
func New(_ context.Context, next http.Handler, config *Config, name string) (http.Handler, error) {
	if config.Value == "" {
		return nil, errors.New("headerplugin: value must not be empty")
	}
	return &Header{next: next, name: name, value: config.Value}, nil
}

// ServeHTTP sets the header before calling the next handler, because
// response headers written after the backend's WriteHeader are lost.
func (h *Header) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	rw.Header().Set(HeaderName, h.value)
	h.next.ServeHTTP(rw, req)
}
