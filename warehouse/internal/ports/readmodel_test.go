package ports

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"example.com/bookstore/idl/kitex_gen/warehouse"
)

// A load that was under way when a write committed must not be served
// afterwards: it may hold the data from before the write.
func TestReadModelDiscardsLoadsOverlappingAWrite(t *testing.T) {
	var loads atomic.Int32
	var version atomic.Int64 // the database's catalogue version
	title := atomic.Pointer[string]{}
	old, updated := "old", "new"
	title.Store(&old)
	release := make(chan struct{})
	loading := make(chan struct{})
	m := newProductReadModel(func(context.Context) (int64, error) { return version.Load(), nil }, func(context.Context) ([]*warehouse.Product, error) {
		if loads.Add(1) == 1 {
			s := *title.Load() // read "the database" before the write...
			close(loading)
			<-release // ...and finish after it
			return []*warehouse.Product{{Id: 1, Title: s}}, nil
		}
		return []*warehouse.Product{{Id: 1, Title: *title.Load()}}, nil
	})

	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := m.List(context.Background()); err != nil {
			t.Error(err)
		}
	})
	<-loading
	title.Store(&updated) // the write commits,
	version.Add(1)        // with its version
	close(release)
	wg.Wait()

	p, ok, err := m.Get(context.Background(), 1)
	if err != nil || !ok || p.Title != "new" {
		t.Fatalf("read after the write = %v %v %v, want the new title", p, ok, err)
	}
	if loads.Load() != 2 {
		t.Errorf("%d loads, want 2", loads.Load())
	}
	// Now current: served from memory.
	if _, err := m.List(context.Background()); err != nil || loads.Load() != 2 {
		t.Errorf("a current snapshot was loaded again (%d loads, %v)", loads.Load(), err)
	}
}
