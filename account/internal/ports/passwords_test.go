package ports

import (
	"context"
	"runtime"
	"testing"
	"time"

	"example.com/bookstore/common/rpcerr"
)

func TestPasswordSlotsLeaveACoreFree(t *testing.T) {
	if want := max(1, runtime.GOMAXPROCS(0)-1); cap(passwordSlots) != want {
		t.Fatalf("%d slots, want %d", cap(passwordSlots), want)
	}
	var releases []func()
	for range cap(passwordSlots) {
		r, err := passwordSlot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}

	// Full: a caller waits, and gives up when its context does.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := passwordSlot(ctx); !rpcerr.Is(err, rpcerr.Unavailable) {
		t.Fatalf("full slots: got %v, want UNAVAILABLE", err)
	}

	// A freed slot goes to the one waiting.
	got := make(chan error, 1)
	go func() {
		r, err := passwordSlot(context.Background())
		if err == nil {
			r()
		}
		got <- err
	}()
	releases[0]()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiter not admitted after a release")
	}
	for _, r := range releases[1:] {
		r()
	}
}
