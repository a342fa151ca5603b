package rpcclient

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/bytedance/gopkg/cloud/circuitbreaker"
	"github.com/cloudwego/kitex/pkg/circuitbreak"
	"github.com/cloudwego/kitex/pkg/kerrors"
	"github.com/cloudwego/kitex/pkg/remote"
	"github.com/cloudwego/kitex/pkg/retry"
)

func TestTimeoutsDefaults(t *testing.T) {
	connect, rpc := Config{}.Timeouts()
	if connect != DefaultConnectTimeout || rpc != DefaultRPCTimeout {
		t.Fatalf("zero config: %v %v", connect, rpc)
	}
	connect, rpc = Config{ConnectTimeout: 2 * time.Second, RPCTimeout: 7 * time.Second}.Timeouts()
	if connect != 2*time.Second || rpc != 7*time.Second {
		t.Fatalf("set config: %v %v", connect, rpc)
	}
	// The per-call options carry the same values, defaults included.
	if n := len(CallOptions(Config{})); n != 2 {
		t.Fatalf("CallOptions: %d options, want connect and rpc timeout", n)
	}
}

func TestWithDefaults(t *testing.T) {
	c := Config{Addr: "x:1"}.withDefaults()
	want := Config{
		Addr: "x:1", MaxRetries: DefaultMaxRetries, RetryBackoff: DefaultRetryBackoff, RetryBudget: DefaultRetryBudget,
		BreakerErrorRate: DefaultBreakerErrorRate, BreakerMinSamples: DefaultBreakerMinSamples, BreakerCooling: DefaultBreakerCooling,
		PoolMaxIdle: DefaultPoolMaxIdle, PoolMaxIdleGlobal: DefaultPoolMaxIdleGlobal, PoolIdleTimeout: DefaultPoolIdleTimeout,
		ResolveInterval: DefaultResolveInterval,
	}
	if c != want {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}
	if c := (Config{MaxRetries: -1}).withDefaults(); c.MaxRetries != -1 {
		t.Fatalf("max_retries -1 (never) became %d", c.MaxRetries)
	}
}

func TestRetryPolicies(t *testing.T) {
	cfg := Config{}.withDefaults()
	if p := retryPolicies(cfg, time.Second, nil); p != nil {
		t.Fatalf("no idempotent methods, policies %v", p)
	}
	off := cfg
	off.MaxRetries = -1
	if p := retryPolicies(off, time.Second, []string{"Get"}); p != nil {
		t.Fatalf("retries disabled, policies %v", p)
	}
	// A backoff under a millisecond must not make Kitex's check panic.
	tiny := cfg
	tiny.RetryBackoff = time.Microsecond
	p := retryPolicies(tiny, 3*time.Second, []string{"Get", "Freeze"})
	if len(p) != 2 {
		t.Fatalf("policies %v", p)
	}
	fp := p["Freeze"].FailurePolicy
	if !p["Get"].Enable || p["Get"].Type != retry.FailureType || fp == nil {
		t.Fatalf("policy %+v", p["Get"])
	}
	if fp.StopPolicy.MaxRetryTimes != DefaultMaxRetries || fp.StopPolicy.MaxDurationMS != 3000 ||
		fp.StopPolicy.CBPolicy.ErrorRate != DefaultRetryBudget || !fp.ShouldResultRetry.NotRetryForTimeout {
		t.Fatalf("stop policy %+v", fp.StopPolicy)
	}
	if _, ok := p["Create"]; ok {
		t.Fatal("a method not named idempotent has a retry policy")
	}
}

// appError is what a handler's own (non-business) failure looks like once
// Kitex decoded it: an exception with a type id.
type appError struct{}

func (appError) Error() string { return "handler failed" }
func (appError) TypeID() int32 { return remote.InternalError }

func TestRetryable(t *testing.T) {
	live := context.Background()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"no error", live, nil, false},
		{"connection refused", live, kerrors.ErrGetConnection.WithCause(errors.New("dial tcp: connection refused")), true},
		{"connection closed by the server", live, kerrors.ErrRemoteOrNetwork.WithCause(io.EOF), true},
		{"instance circuit open", live, kerrors.ErrCircuitBreak.WithCause(errInstanceOpen), true},
		{"method circuit open", live, kerrors.ErrCircuitBreak.WithCause(errors.New("circuit of warehouse.GetProduct is open")), false},
		{"bulkhead full", live, kerrors.ErrOverlimit.WithCause(errors.New("full")), false},
		{"timeout", live, kerrors.ErrRPCTimeout.WithCause(errors.New("1s")), false},
		{"handler exception", live, kerrors.ErrRemoteOrNetwork.WithCause(appError{}), false},
		{"caller gave up", done, kerrors.ErrGetConnection.WithCause(errors.New("refused")), false},
		{"something else", live, errors.New("boom"), false},
	}
	for _, tt := range tests {
		if got := retryable(tt.ctx, tt.err, nil); got != tt.want {
			t.Errorf("%s: retryable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMethodErrorType(t *testing.T) {
	ctx := context.Background()
	for err, want := range map[error]circuitbreak.ErrorType{
		kerrors.ErrCircuitBreak.WithCause(errInstanceOpen): circuitbreak.TypeIgnorable,
		kerrors.ErrOverlimit.WithCause(errors.New("full")): circuitbreak.TypeIgnorable,
		kerrors.ErrRPCTimeout.WithCause(errors.New("1s")):  circuitbreak.TypeTimeout,
		kerrors.ErrGetConnection:                           circuitbreak.TypeFailure,
	} {
		if got := methodErrorType(ctx, nil, nil, err); got != want {
			t.Errorf("%v: type %v, want %v", err, got, want)
		}
	}
	if got := methodErrorType(ctx, nil, nil, nil); got != circuitbreak.TypeSuccess {
		t.Errorf("success: type %v", got)
	}
}

func TestBreakersRecord(t *testing.T) {
	b := NewBreakers()
	b.record("method", "warehouse.GetProduct", circuitbreaker.Closed, circuitbreaker.Open, nil)
	b.record("method", "warehouse.GetProduct", circuitbreaker.Open, circuitbreaker.HalfOpen, nil)
	b.record("method", "warehouse.GetProduct", circuitbreaker.HalfOpen, circuitbreaker.Closed, nil)
	got := b.Transitions()
	if len(got) != 3 || got[0].To != "open" || got[1].To != "half-open" || got[2].From != "half-open" || got[2].To != "closed" {
		t.Fatalf("transitions %+v", got)
	}
	for range maxTransitions + 10 {
		b.record("instance", "warehouse@127.0.0.1:1", circuitbreaker.Closed, circuitbreaker.Open, nil)
	}
	if n := len(b.Transitions()); n != maxTransitions {
		t.Fatalf("kept %d transitions, want the last %d", n, maxTransitions)
	}
	// A nil collector only logs.
	var none *Breakers
	none.record("method", "x.y", circuitbreaker.Closed, circuitbreaker.Open, nil)
	none.add(nil)
}

func TestOptionsBuild(t *testing.T) {
	b := NewBreakers()
	opts := Options(Config{Addr: "127.0.0.1:1, 127.0.0.1:2"}, Idempotent("Get"), WithBreakers(b))
	if len(opts) < 8 {
		t.Fatalf("%d options", len(opts))
	}
	// Both panels (method and instance) are known to the collector.
	if n := len(b.panels); n != 2 {
		t.Fatalf("%d panels registered", n)
	}
	if nc := b.NotClosed(); len(nc) != 0 {
		t.Fatalf("fresh breakers not closed: %v", nc)
	}
	for _, p := range b.panels {
		p.Close()
	}
}
