package bulkhead

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cloudwego/kitex/pkg/kerrors"
)

func TestCompartments(t *testing.T) {
	var limit atomic.Int64
	limit.Store(2)
	b := New(func(service string) int {
		if service == "warehouse" {
			return int(limit.Load())
		}
		return 0
	})
	release := make(chan struct{})
	var entered sync.WaitGroup
	blocking := func(context.Context, any, any) error {
		entered.Done()
		<-release
		return nil
	}
	wh := b.Middleware("warehouse")(blocking)
	acc := b.Middleware("account")(blocking)

	var done sync.WaitGroup
	call := func(ep func(context.Context, any, any) error) {
		entered.Add(1)
		done.Add(1)
		go func() { defer done.Done(); _ = ep(context.Background(), nil, nil) }()
	}
	call(wh)
	call(wh)
	entered.Wait()

	// Full: the third call fails at once, with the error the gateway
	// answers 503 and the breakers ignore.
	err := wh(context.Background(), nil, nil)
	if !errors.Is(err, kerrors.ErrOverlimit) {
		t.Fatalf("third call: %v, want ErrOverlimit", err)
	}
	// Another service's compartment is unaffected (and unbounded).
	for range 5 {
		call(acc)
	}
	entered.Wait()

	// A raised limit applies to the next call.
	limit.Store(3)
	call(wh)
	entered.Wait()

	st := b.Stats()
	if w := st["warehouse"]; w.Limit != 3 || w.InFlight != 3 || w.Peak != 3 || w.Rejected != 1 {
		t.Fatalf("warehouse stats %+v", w)
	}
	if a := st["account"]; a.Limit != 0 || a.InFlight != 5 || a.Rejected != 0 {
		t.Fatalf("account stats %+v", a)
	}
	close(release)
	done.Wait()
	if w := b.Stats()["warehouse"]; w.InFlight != 0 {
		t.Fatalf("after the calls returned: %+v", w)
	}
}
