package service_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"example.com/bookstore/common/rpcclient"
	"example.com/bookstore/idl/kitex_gen/warehouse"
	"example.com/bookstore/idl/kitex_gen/warehouse/warehouseservice"
	"example.com/bookstore/warehouse/internal/config"
	"example.com/bookstore/warehouse/internal/service"
)

// TestDebugDelay: the test-only [debug] delay slows every call while it is
// set and stops as soon as the live config clears it.
func TestDebugDelay(t *testing.T) {
	var live atomic.Pointer[config.Config]
	cfg := testConfig(t)
	live.Store(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run, err := service.StartLive(ctx, live.Load)
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{Running: run}
	t.Cleanup(func() { in.stop(t) })
	client, err := warehouseservice.NewClient("warehouse", rpcclient.Options(rpcclient.Config{
		Addr: run.Addr().String(), RPCTimeout: 60 * time.Second,
	})...)
	if err != nil {
		t.Fatal(err)
	}
	call := func() time.Duration {
		t.Helper()
		start := time.Now()
		if _, err := client.ListAdvertisements(ctx, &warehouse.ListAdvertisementsRequest{}); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}

	slow := *cfg
	slow.Debug.Delay = 500 * time.Millisecond
	live.Store(&slow)
	if d := call(); d < 500*time.Millisecond {
		t.Fatalf("call with a 500ms delay took %v", d)
	}
	live.Store(cfg)
	// Generous bound: -race on a loaded machine; the point is that the
	// delay is gone, not how fast the call is.
	if d := call(); d >= 500*time.Millisecond {
		t.Fatalf("call after the delay was cleared took %v", d)
	}
}
