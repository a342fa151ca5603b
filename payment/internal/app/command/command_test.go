package command

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"example.com/bookstore/payment/internal/domain"
)

// The component tests (internal/service) run these handlers against the
// real database and warehouse. The fakes here reach the failure paths those
// cannot easily provoke: a database that fails after the freeze, a
// warehouse that answers inconsistently.

type fakeRepo struct {
	domain.Repository // unused methods panic

	guards  map[string]string // pay id -> "scheduled" | "fired" | "dropped"
	added   []*domain.Payment
	addErr  error
	guardAt time.Time
}

func (r *fakeRepo) GuardFreeze(_ context.Context, payID string, at time.Time) error {
	r.guards[payID], r.guardAt = "scheduled", at
	return nil
}

func (r *fakeRepo) FireFreezeGuard(_ context.Context, payID string) error {
	r.guards[payID] = "fired"
	return nil
}

func (r *fakeRepo) DropFreezeGuard(_ context.Context, payID string) error {
	r.guards[payID] = "dropped"
	return nil
}

func (r *fakeRepo) AddPayment(_ context.Context, p *domain.Payment) error {
	if r.addErr != nil {
		return r.addErr
	}
	r.added = append(r.added, p)
	return nil
}

type fakeWarehouse struct {
	freeze    func(items []domain.Item) ([]domain.PricedItem, error)
	mu        sync.Mutex // the dispatcher calls concurrently
	calls     []string
	actionErr error
	panics    bool
}

func (w *fakeWarehouse) record(call string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, call)
}

func (w *fakeWarehouse) Freeze(_ context.Context, payID string, items []domain.Item) ([]domain.PricedItem, error) {
	w.record("freeze " + payID)
	return w.freeze(items)
}

func (w *fakeWarehouse) Thaw(_ context.Context, payID string) error {
	w.record("thaw " + payID)
	if w.panics {
		panic("thaw bug")
	}
	return w.actionErr
}

func (w *fakeWarehouse) Decrease(_ context.Context, payID string) error {
	w.record("decrease " + payID)
	return w.actionErr
}

type countKicks int

func (k *countKicks) Kick() { *k++ }

func priceAll(cents domain.Cents) func([]domain.Item) ([]domain.PricedItem, error) {
	return func(items []domain.Item) ([]domain.PricedItem, error) {
		out := make([]domain.PricedItem, len(items))
		for i, it := range items {
			out[i] = domain.PricedItem{Item: it, UnitPrice: cents}
		}
		return out, nil
	}
}

func testSettlement(t *testing.T) domain.Settlement {
	t.Helper()
	s, err := domain.NewSettlement([]domain.Item{{ProductID: 1, Amount: 2}},
		&domain.Purchase{Pay: "wechat", Name: "n", Telephone: "1", Location: "x"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSettleFreezeGuard(t *testing.T) {
	now := time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)
	dbDown := errors.New("database is gone")
	tests := []struct {
		name      string
		freeze    func([]domain.Item) ([]domain.PricedItem, error)
		addErr    error
		wantErr   error
		wantGuard string
		wantKicks int
	}{
		{"stored", priceAll(12900), nil, nil, "scheduled", 0},
		{"warehouse unreachable: may have frozen", func([]domain.Item) ([]domain.PricedItem, error) {
			return nil, fmt.Errorf("%w: timeout", domain.ErrWarehouseUnavailable)
		}, nil, domain.ErrWarehouseUnavailable, "fired", 1},
		{"insufficient stock: nothing frozen", func([]domain.Item) ([]domain.PricedItem, error) {
			return nil, domain.ErrInsufficientStock
		}, nil, domain.ErrInsufficientStock, "dropped", 0},
		{"unknown product: nothing frozen", func([]domain.Item) ([]domain.PricedItem, error) {
			return nil, domain.ErrUnknownProduct
		}, nil, domain.ErrUnknownProduct, "dropped", 0},
		{"inconsistent freeze", func(items []domain.Item) ([]domain.PricedItem, error) {
			return []domain.PricedItem{{Item: domain.Item{ProductID: 7, Amount: 1}, UnitPrice: 100}}, nil
		}, nil, domain.ErrWarehouseRefused, "fired", 1},
		{"database fails after the freeze", priceAll(12900), dbDown, dbDown, "fired", 1},
		{"guard fired meanwhile", priceAll(12900), domain.ErrFreezeGuardFired, domain.ErrFreezeGuardFired, "fired", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := &fakeRepo{guards: map[string]string{}, addErr: tt.addErr}
			wh := &fakeWarehouse{freeze: tt.freeze}
			var kicks countKicks
			h := NewSettleHandler(repo, wh, &kicks, func() time.Time { return now },
				func() string { return "pay-1" }, func() time.Duration { return 90 * time.Second })

			p, err := h.Handle(context.Background(), Settle{Settlement: testSettlement(t), AccountID: 1})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := repo.guards["pay-1"]; got != tt.wantGuard {
				t.Errorf("guard = %q, want %q", got, tt.wantGuard)
			}
			if !repo.guardAt.Equal(now.Add(FreezeGuardDelay)) {
				t.Errorf("guard scheduled at %v", repo.guardAt)
			}
			if int(kicks) != tt.wantKicks {
				t.Errorf("dispatcher kicked %d times, want %d", kicks, tt.wantKicks)
			}
			if tt.wantErr == nil {
				if p == nil || p.Total() != 27000 || p.Expires() != 90*time.Second || len(repo.added) != 1 {
					t.Errorf("payment = %+v, stored %d", p, len(repo.added))
				}
			} else if p != nil || len(repo.added) != 0 {
				t.Error("a failed settlement returned or stored a payment")
			}
		})
	}
}

type fakeOutbox struct {
	rows      []Delivery
	claimable map[int64]bool
	log       []string
	next      map[int64]time.Time
}

func (o *fakeOutbox) ClaimDue(_ context.Context, owner string, now, until time.Time, _ int) ([]Delivery, error) {
	var out []Delivery
	for _, d := range o.rows {
		if o.claimable[d.ID] {
			o.log = append(o.log, fmt.Sprintf("claim %d by %s for %v", d.ID, owner, until.Sub(now)))
			out = append(out, d)
		}
	}
	o.rows = nil
	return out, nil
}

func (o *fakeOutbox) Delivered(_ context.Context, ids []int64, _ string, _ time.Time) error {
	o.log = append(o.log, fmt.Sprintf("delivered %v", ids))
	return nil
}

func (o *fakeOutbox) Retry(_ context.Context, id int64, _ string, next time.Time, _ string) error {
	o.log = append(o.log, fmt.Sprintf("retry %d", id))
	o.next[id] = next
	return nil
}

func (o *fakeOutbox) GiveUp(_ context.Context, id int64, _ string, _ time.Time, _ string) error {
	o.log = append(o.log, fmt.Sprintf("give up %d", id))
	return nil
}

func TestDeliver(t *testing.T) {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	settings := func() DeliverSettings {
		return DeliverSettings{RetryInterval: time.Second, MaxBackoff: 5 * time.Second, Lease: 10 * time.Second}
	}
	rows := []Delivery{
		{ID: 1, PayID: "a", Action: domain.ActionThaw},
		{ID: 2, PayID: "b", Action: domain.ActionDecrease, Attempts: 3},
		{ID: 3, PayID: "c", Action: domain.ActionThaw}, // another replica holds it
	}
	for _, tt := range []struct {
		name      string
		actionErr error
		wantLog   []string
		wantDone  int
	}{
		{"acknowledged", nil, []string{"claim 1 by me for 10s", "claim 2 by me for 10s", "delivered [1 2]"}, 2},
		{"unreachable: retried with backoff", domain.ErrWarehouseUnavailable,
			[]string{"claim 1 by me for 10s", "claim 2 by me for 10s", "retry 1", "retry 2", "delivered []"}, 0},
		{"refused for good: parked", fmt.Errorf("%w: NOT_FOUND", domain.ErrWarehouseRefused),
			[]string{"claim 1 by me for 10s", "claim 2 by me for 10s", "give up 1", "give up 2", "delivered []"}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ob := &fakeOutbox{rows: rows, claimable: map[int64]bool{1: true, 2: true}, next: map[int64]time.Time{}}
			wh := &fakeWarehouse{actionErr: tt.actionErr}
			h := NewDeliverHandler(ob, wh, "me", func() time.Time { return now }, settings)
			done, err := h.Handle(context.Background())
			if err != nil || done != tt.wantDone {
				t.Fatalf("Handle = %d, %v; want %d", done, err, tt.wantDone)
			}
			if fmt.Sprint(ob.log) != fmt.Sprint(tt.wantLog) {
				t.Errorf("outbox calls %q, want %q", ob.log, tt.wantLog)
			}
			// The calls of one pass run concurrently, in any order.
			calls := slices.Sorted(slices.Values(wh.calls))
			if want := []string{"decrease b", "thaw a"}; fmt.Sprint(calls) != fmt.Sprint(want) {
				t.Errorf("warehouse calls %q, want %q (never the unclaimed row)", calls, want)
			}
			if tt.actionErr != nil && errors.Is(tt.actionErr, domain.ErrWarehouseUnavailable) {
				// First failure waits RetryInterval; the 4th attempt would
				// wait 8s but is capped at MaxBackoff.
				if ob.next[1] != now.Add(time.Second) || ob.next[2] != now.Add(5*time.Second) {
					t.Errorf("next attempts %v", ob.next)
				}
			}
		})
	}
}

// TestDeliverSurvivesPanic: a panicking call is a failed delivery, retried
// later, and the other rows of the pass are still delivered.
func TestDeliverSurvivesPanic(t *testing.T) {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	settings := func() DeliverSettings {
		return DeliverSettings{RetryInterval: time.Second, MaxBackoff: 5 * time.Second, Lease: 10 * time.Second}
	}
	ob := &fakeOutbox{rows: []Delivery{
		{ID: 1, PayID: "a", Action: domain.ActionThaw},
		{ID: 2, PayID: "b", Action: domain.ActionDecrease},
	}, claimable: map[int64]bool{1: true, 2: true}, next: map[int64]time.Time{}}
	h := NewDeliverHandler(ob, &fakeWarehouse{panics: true}, "me", func() time.Time { return now }, settings)
	done, err := h.Handle(context.Background())
	if err != nil || done != 1 {
		t.Fatalf("Handle = %d, %v; want 1", done, err)
	}
	want := []string{"claim 1 by me for 10s", "claim 2 by me for 10s", "retry 1", "delivered [2]"}
	if fmt.Sprint(ob.log) != fmt.Sprint(want) {
		t.Errorf("outbox calls %q, want %q", ob.log, want)
	}
}

func TestBackoff(t *testing.T) {
	s := DeliverSettings{RetryInterval: 100 * time.Millisecond, MaxBackoff: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := backoff(s, i+1); got != w*time.Millisecond {
			t.Errorf("attempt %d: %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
}

type fakePurger struct {
	left    int
	befores []time.Time
}

func (p *fakePurger) PurgeDelivered(_ context.Context, before time.Time, limit int) (int, error) {
	p.befores = append(p.befores, before)
	n := min(p.left, limit)
	p.left -= n
	return n, nil
}

// TestPurgeOutbox: one pass deletes everything past the retention, a full
// batch at a time, with the cutoff taken once at the start.
func TestPurgeOutbox(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	p := &fakePurger{left: 2*purgeBatch + 7}
	h := NewPurgeOutboxHandler(p, func() time.Time { return now }, func() time.Duration { return 48 * time.Hour })
	n, err := h.Handle(context.Background())
	if err != nil || n != 2*purgeBatch+7 || p.left != 0 {
		t.Fatalf("purged %d (%v), %d left", n, err, p.left)
	}
	if len(p.befores) != 3 {
		t.Fatalf("%d batches, want 3", len(p.befores))
	}
	for _, b := range p.befores {
		if !b.Equal(now.Add(-48 * time.Hour)) {
			t.Errorf("cutoff %v, want %v", b, now.Add(-48*time.Hour))
		}
	}
}
