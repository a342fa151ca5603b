package server

import (
	"net/http"
	"net/http/pprof"
)

// RegisterPprof serves Go's profiles under /debug/pprof/ on an admin
// listener (never on a public one): CPU profiles at peak load are how the
// benchmark (make bench) shows where time goes. A profile costs CPU only
// while one is being taken. cmdline is left out: nothing needs it, and a
// process's arguments are not the admin port's business.
func RegisterPprof(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
