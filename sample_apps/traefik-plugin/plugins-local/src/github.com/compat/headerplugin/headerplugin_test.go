package headerplugin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHeaderSet(t *testing.T) {
	cfg := CreateConfig()
	cfg.Value = "on-alpine"
	var reached bool
	next := http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		reached = true
		rw.WriteHeader(http.StatusTeapot)
	})
	h, err := New(context.Background(), next, cfg, "compat-header")
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://gw.test/", nil))
	if !reached {
		t.Error("next handler not called")
	}
	if rec.Code != http.StatusTeapot {
		t.Errorf("status %d, want the backend's 418", rec.Code)
	}
	if got := rec.Header().Get(HeaderName); got != "on-alpine" {
		t.Errorf("%s = %q, want %q", HeaderName, got, "on-alpine")
	}
}

func TestDefaultsAndEmptyValue(t *testing.T) {
	if got := CreateConfig().Value; got != "loaded" {
		t.Errorf("default value %q, want %q", got, "loaded")
	}
	if _, err := New(context.Background(), http.NotFoundHandler(), &Config{}, "x"); err == nil {
		t.Error("empty value accepted")
	}
}
