// Package resilience assembles the gateway's protections from its config:
// rate limits, request deadlines and the stale catalogue as HTTP
// middleware, bulkheads and circuit breakers for the Kitex clients, and a
// JSON view of their state for the admin listener. Every limit is read from
// the live config on use, so a changed file applies without a restart.
package resilience

import (
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	"example.com/bookstore/common/rpcclient"
	"example.com/bookstore/gateway/internal/bulkhead"
	"example.com/bookstore/gateway/internal/clients"
	"example.com/bookstore/gateway/internal/config"
	"example.com/bookstore/gateway/internal/deadline"
	"example.com/bookstore/gateway/internal/degrade"
	"example.com/bookstore/gateway/internal/ratelimit"
)

// Suite is the gateway's set of protections.
type Suite struct {
	current   func() *config.Config
	limiter   *ratelimit.Limiter
	catalogue *degrade.Catalogue
	bulkheads *bulkhead.Bulkheads
	breakers  *rpcclient.Breakers
	deadlines atomic.Pointer[deadlines]
}

// deadlines caches the deadline settings of one config, so that a request
// does not rebuild the route table.
type deadlines struct {
	of *config.Config
	s  deadline.Settings
}

// New returns the protections configured by current(), which is read on
// every use.
func New(current func() *config.Config) *Suite {
	s := &Suite{current: current, catalogue: degrade.New(), breakers: rpcclient.NewBreakers()}
	s.limiter = ratelimit.New(func() ratelimit.Limits {
		l := current().Limits
		return ratelimit.Limits{
			PerIPRate: l.PerIPRate, PerIPBurst: l.PerIPBurst,
			GlobalRate: l.GlobalRate, GlobalBurst: l.GlobalBurst,
			ClientIPHeader: l.ClientIPHeader,
		}
	})
	s.bulkheads = bulkhead.New(func(service string) int {
		b := current().Resilience.Bulkhead
		switch service {
		case clients.Account:
			return b.Account
		case clients.Warehouse:
			return b.Warehouse
		case clients.Payment:
			return b.Payment
		}
		return 0
	})
	return s
}

// Middleware returns the HTTP middleware, outermost first: the rate limit
// (refusing before any work), the deadline, then the stale catalogue
// (which needs the handler's answer).
func (s *Suite) Middleware() []app.HandlerFunc {
	return []app.HandlerFunc{
		s.limiter.Middleware(),
		deadline.Middleware(s.deadlineSettings),
		s.catalogue.Middleware(),
	}
}

// Guards are what the Kitex clients are built with.
func (s *Suite) Guards() clients.Guards {
	return clients.Guards{Breakers: s.breakers, Bulkheads: s.bulkheads}
}

func (s *Suite) deadlineSettings() deadline.Settings {
	cfg := s.current()
	if d := s.deadlines.Load(); d != nil && d.of == cfg {
		return d.s
	}
	r := cfg.Resilience
	ds := deadline.Settings{Default: r.RequestTimeout, Routes: make(map[string]time.Duration, len(r.Routes))}
	for _, rt := range r.Routes {
		method, path, _ := strings.Cut(rt.Route, " ")
		ds.Routes[method+" "+strings.TrimSpace(path)] = rt.Timeout
	}
	s.deadlines.Store(&deadlines{of: cfg, s: ds})
	return ds
}

// State is what the admin endpoint shows.
type State struct {
	// Breakers lists the circuits that are not closed, and every state
	// change since start (the most recent 256).
	Breakers struct {
		NotClosed   map[string]string      `json:"not_closed"`
		Transitions []rpcclient.Transition `json:"transitions"`
	} `json:"breakers"`
	Bulkheads   map[string]bulkhead.Stats `json:"bulkheads"`
	RateLimited int64                     `json:"rate_limited"`
	StaleServed int64                     `json:"stale_served"`
	Goroutines  int                       `json:"goroutines"`
}

// State returns the protections' current state.
func (s *Suite) State() State {
	var st State
	st.Breakers.NotClosed = s.breakers.NotClosed()
	st.Breakers.Transitions = s.breakers.Transitions()
	st.Bulkheads = s.bulkheads.Stats()
	st.RateLimited = s.limiter.Rejected()
	st.StaleServed = s.catalogue.Served()
	st.Goroutines = runtime.NumGoroutine()
	return st
}

// ServeHTTP serves State as JSON (GET /debug/resilience on the admin
// listener).
func (s *Suite) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(s.State())
}
