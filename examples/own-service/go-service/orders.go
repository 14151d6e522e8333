package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Order is what POST /orders stores and GET /orders returns.
type Order struct {
	ID        int       `json:"id"`
	Item      string    `json:"item"`
	Quantity  int       `json:"quantity"`
	Reference string    `json:"reference"` // "ORD-<id>-<checksum>", checksum from C or Go
	CreatedAt time.Time `json:"created_at"`
}

type store struct {
	mu     sync.Mutex
	orders []Order
}

func newStore() *store { return &store{} }

func (s *store) add(item string, quantity int) Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := len(s.orders) + 1
	base := fmt.Sprintf("ORD-%d-%s", id, item)
	order := Order{
		ID:        id,
		Item:      item,
		Quantity:  quantity,
		Reference: fmt.Sprintf("ORD-%d-%08x", id, checksum(base)),
		CreatedAt: time.Now().UTC(),
	}
	s.orders = append(s.orders, order)
	return order
}

func (s *store) list() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Order(nil), s.orders...)
}

func (s *store) get(id int) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id < 1 || id > len(s.orders) {
		return Order{}, false
	}
	return s.orders[id-1], true
}

func newMux(s *store) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /orders", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.list())
	})
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Item     string `json:"item"`
			Quantity int    `json:"quantity"`
		}
		r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be JSON: " + err.Error()})
			return
		}
		in.Item = strings.TrimSpace(in.Item)
		if in.Item == "" || in.Quantity < 1 || in.Quantity > 1000 {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "need an item and a quantity of 1-1000"})
			return
		}
		order := s.add(in.Item, in.Quantity)
		w.Header().Set("Location", fmt.Sprintf("/orders/%d", order.ID))
		writeJSON(w, http.StatusCreated, order)
	})
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		var id int
		if _, err := fmt.Sscan(r.PathValue("id"), &id); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "id must be a number"})
			return
		}
		order, ok := s.get(id)
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such order"})
			return
		}
		writeJSON(w, http.StatusOK, order)
	})
	mux.HandleFunc("GET /info", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"linkage":       linkage,
			"checksum_impl": checksumImpl,
			"go_version":    runtime.Version(),
			"uid":           os.Getuid(),
			"timezone":      parisTime(),
		})
	})
	return mux
}

// parisTime is the service's one time-zone lookup. Without zoneinfo files in the
// image (and without time/tzdata embedded) LoadLocation fails with
// "unknown time zone Europe/Paris": the endpoint reports that instead of failing.
func parisTime() map[string]any {
	const zone = "Europe/Paris"
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return map[string]any{"zone": zone, "ok": false, "error": err.Error()}
	}
	now := time.Now().In(loc)
	name, offset := now.Zone()
	return map[string]any{
		"zone": zone, "ok": true, "abbreviation": name, "utc_offset_s": offset,
		"local_time": now.Format(time.RFC3339),
	}
}

func writeJSON(w http.ResponseWriter, status int, value any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(value)
}
