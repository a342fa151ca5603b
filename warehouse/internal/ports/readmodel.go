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
// Every read first asks the database for the catalogue's version, which
// every product write increments in its transaction (one row, read by
// primary key), and answers from memory only if the copy is at least that
// new. So a write through any replica is seen by the next read on every
// replica: with several warehouse pods behind one name, the read after a
// write is usually served by another pod than the write.
type productReadModel struct {
	version func(ctx context.Context) (int64, error)
	load    func(ctx context.Context) ([]*warehouse.Product, error)

	snap atomic.Pointer[catalogue]
	mu   sync.Mutex // one load at a time
}

type catalogue struct {
	// version was read before the load began, so the copy holds every
	// write up to it, and maybe later ones.
	version int64
	list    []*warehouse.Product
	byID    map[int64]*warehouse.Product
}

func newProductReadModel(version func(ctx context.Context) (int64, error), load func(ctx context.Context) ([]*warehouse.Product, error)) *productReadModel {
	return &productReadModel{version: version, load: load}
}

// currentAt returns the copy if it holds every write up to version v.
func (m *productReadModel) currentAt(v int64) *catalogue {
	if c := m.snap.Load(); c != nil && c.version >= v {
		return c
	}
	return nil
}

func (m *productReadModel) get(ctx context.Context) (*catalogue, error) {
	v, err := m.version(ctx)
	if err != nil {
		return nil, err
	}
	if c := m.currentAt(v); c != nil {
		return c, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Readers that queued here behind a load are served by it.
	if c := m.currentAt(v); c != nil {
		return c, nil
	}
	list, err := m.load(ctx)
	if err != nil {
		return nil, err
	}
	c := &catalogue{version: v, list: list, byID: make(map[int64]*warehouse.Product, len(list))}
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
