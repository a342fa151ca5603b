package rpcclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/bytedance/gopkg/cloud/circuitbreaker"
	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/pkg/circuitbreak"
	"github.com/cloudwego/kitex/pkg/kerrors"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
)

// Two breakers guard every call, as Kitex's CBSuite arranges them: one per
// method of the service, which counts every failure and timeout, and one
// per instance (address), which counts only failures to connect, so that
// one dead replica is skipped without closing the method for the others.
// The panels are built here rather than through CBSuite because CBSuite
// fixes the cooling time and reports state changes only to Kitex's
// internal event queue; an operator needs them in the log.

// breakerOptions returns the middlewares of both breakers.
func breakerOptions(cfg Config, obs *Breakers) []client.Option {
	trip := circuitbreaker.RateTripFunc(cfg.BreakerErrorRate, cfg.BreakerMinSamples)
	var panels []circuitbreaker.Panel
	panel := func(level string) circuitbreaker.Panel {
		p, err := circuitbreaker.NewPanel(func(key string, from, to circuitbreaker.State, m circuitbreaker.Metricer) {
			obs.record(level, key, from, to, m)
		}, circuitbreaker.Options{
			CoolingTimeout:    cfg.BreakerCooling,
			ShouldTripWithKey: func(string) circuitbreaker.TripFunc { return trip },
		})
		if err != nil {
			// Only invalid bucket settings fail, and none are set.
			panic(fmt.Sprintf("rpcclient: circuit breaker panel: %v", err))
		}
		obs.add(p)
		panels = append(panels, p)
		return p
	}
	method := circuitbreak.NewCircuitBreakerMW(circuitbreak.Control{
		GetKey: func(ctx context.Context, _ any) (string, bool) {
			to := rpcinfo.GetRPCInfo(ctx).To()
			return to.ServiceName() + "." + to.Method(), true
		},
		GetErrorType: methodErrorType,
		DecorateError: func(ctx context.Context, _ any, _ error) error {
			to := rpcinfo.GetRPCInfo(ctx).To()
			return kerrors.ErrCircuitBreak.WithCause(fmt.Errorf("circuit of %s.%s is open", to.ServiceName(), to.Method()))
		},
	}, panel("method"))
	instance := circuitbreak.NewCircuitBreakerMW(circuitbreak.Control{
		GetKey: func(ctx context.Context, _ any) (string, bool) {
			to := rpcinfo.GetRPCInfo(ctx).To()
			if to.Address() == nil {
				return "", false
			}
			return to.ServiceName() + "@" + to.Address().String(), true
		},
		GetErrorType: circuitbreak.ErrorTypeOnInstanceLevel,
		DecorateError: func(ctx context.Context, _ any, _ error) error {
			to := rpcinfo.GetRPCInfo(ctx).To()
			return kerrors.ErrCircuitBreak.WithCause(fmt.Errorf("%w: %s@%s", errInstanceOpen, to.ServiceName(), to.Address()))
		},
	}, panel("instance"))
	return []client.Option{
		client.WithMiddleware(method),
		client.WithInstanceMW(instance),
		client.WithCloseCallbacks(func() error {
			for _, p := range panels {
				obs.remove(p)
				p.Close()
			}
			return nil
		}),
	}
}

// errInstanceOpen marks a call refused because its instance's circuit is
// open: another instance may take it, so it may be retried.
var errInstanceOpen = errors.New("circuit of the instance is open")

// methodErrorType is Kitex's service-level rule, except that a call this
// process refused itself (an open circuit, a full bulkhead) says nothing
// about the service and must not keep its circuit open.
func methodErrorType(ctx context.Context, req, resp any, err error) circuitbreak.ErrorType {
	if errors.Is(err, kerrors.ErrCircuitBreak) || errors.Is(err, kerrors.ErrOverlimit) {
		return circuitbreak.TypeIgnorable
	}
	return circuitbreak.ErrorTypeOnServiceLevel(ctx, req, resp, err)
}

// Breakers collects the state changes of the circuit breakers of every
// client built WithBreakers(b), for a debug endpoint and for tests. A nil
// *Breakers only logs.
type Breakers struct {
	mu          sync.Mutex
	panels      []circuitbreaker.Panel
	transitions []Transition
}

// Transition is one state change of one breaker.
type Transition struct {
	Time time.Time `json:"time"`
	// Breaker is "<service>.<method>" or "<service>@<address>".
	Breaker string `json:"breaker"`
	Level   string `json:"level"` // "method" or "instance"
	From    string `json:"from"`  // "closed", "open" or "half-open"
	To      string `json:"to"`
}

// maxTransitions bounds the history kept; the log has all of it.
const maxTransitions = 256

// NewBreakers returns an empty collector.
func NewBreakers() *Breakers { return &Breakers{} }

func (b *Breakers) add(p circuitbreaker.Panel) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.panels = append(b.panels, p)
}

func (b *Breakers) remove(p circuitbreaker.Panel) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.panels = slices.DeleteFunc(b.panels, func(q circuitbreaker.Panel) bool { return q == p })
}

func (b *Breakers) record(level, key string, from, to circuitbreaker.State, m circuitbreaker.Metricer) {
	t := Transition{Time: time.Now(), Breaker: key, Level: level, From: stateName(from), To: stateName(to)}
	attrs := []any{"breaker", key, "level", level, "from", t.From, "to", t.To}
	if m != nil {
		attrs = append(attrs, "successes", m.Successes(), "failures", m.Failures(), "timeouts", m.Timeouts())
	}
	if to == circuitbreaker.Open {
		slog.Warn("circuit breaker opened", attrs...)
	} else {
		slog.Info("circuit breaker state changed", attrs...)
	}
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.transitions = append(b.transitions, t)
	if n := len(b.transitions); n > maxTransitions {
		b.transitions = append(b.transitions[:0:0], b.transitions[n-maxTransitions:]...)
	}
}

// Transitions returns the recorded state changes, oldest first.
func (b *Breakers) Transitions() []Transition {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := append([]Transition(nil), b.transitions...)
	// The panel reports each change from its own goroutine, so two quick
	// changes may be recorded out of order.
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// NotClosed returns the state of every breaker that is open or half-open.
func (b *Breakers) NotClosed() map[string]string {
	b.mu.Lock()
	panels := append([]circuitbreaker.Panel(nil), b.panels...)
	b.mu.Unlock()
	out := map[string]string{}
	for _, p := range panels {
		for key, br := range p.DumpBreakers() {
			if s := br.State(); s != circuitbreaker.Closed {
				out[key] = stateName(s)
			}
		}
	}
	return out
}

func stateName(s circuitbreaker.State) string {
	switch s {
	case circuitbreaker.Open:
		return "open"
	case circuitbreaker.HalfOpen:
		return "half-open"
	case circuitbreaker.Closed:
		return "closed"
	}
	return s.String()
}
