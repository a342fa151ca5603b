package ports

import (
	"context"
	"sync"
	"sync/atomic"

	"example.com/bookstore/idl/kitex_gen/warehouse"
)

// productReadModel keeps the catalogue in memory, already in IDL form:
// product reads are the hottest path of the store (every page lists or
// shows products) and the catalogue is small. Stock is not in it.
//
// The cached messages are shared by every response and must never be
// modified; Kitex only reads them while encoding.
//
// Product writes of this replica call invalidate after they commit, so the
// next read on this replica sees them. Other replicas do not hear of them:
// to invalidate across replicas we would keep a catalogue version row that
// every product write increments in its transaction, and have each replica
// poll it (say every second) and invalidate when it moved; a short TTL on
// the snapshot would be the cruder alternative.
type productReadModel struct {
	load func(ctx context.Context) ([]*warehouse.Product, error)

	// gen counts invalidations. A snapshot is current only while gen still
	// has the value it had before the snapshot's load started, so a load
	// that raced with a write can never be served after that write.
	gen  atomic.Uint64
	snap atomic.Pointer[catalogue]
	mu   sync.Mutex // one load at a time
}

type catalogue struct {
	gen  uint64
	list []*warehouse.Product
	byID map[int64]*warehouse.Product
}

func newProductReadModel(load func(ctx context.Context) ([]*warehouse.Product, error)) *productReadModel {
	return &productReadModel{load: load}
}

func (m *productReadModel) current() *catalogue {
	if c := m.snap.Load(); c != nil && c.gen == m.gen.Load() {
		return c
	}
	return nil
}

func (m *productReadModel) get(ctx context.Context) (*catalogue, error) {
	if c := m.current(); c != nil {
		return c, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.current(); c != nil {
		return c, nil
	}
	gen := m.gen.Load()
	list, err := m.load(ctx)
	if err != nil {
		return nil, err
	}
	c := &catalogue{gen: gen, list: list, byID: make(map[int64]*warehouse.Product, len(list))}
	for _, p := range list {
		c.byID[p.Id] = p
	}
	m.snap.Store(c)
	return c, nil
}

// List returns every product.
func (m *productReadModel) List(ctx context.Context) ([]*warehouse.Product, error) {
	c, err := m.get(ctx)
	if err != nil {
		return nil, err
	}
	return c.list, nil
}

// Get returns the product with id, or ok false when the catalogue has none.
func (m *productReadModel) Get(ctx context.Context, id int64) (p *warehouse.Product, ok bool, err error) {
	c, err := m.get(ctx)
	if err != nil {
		return nil, false, err
	}
	p, ok = c.byID[id]
	return p, ok, nil
}

// Invalidate drops the snapshot; the next read loads the catalogue again.
func (m *productReadModel) Invalidate() { m.gen.Add(1) }
