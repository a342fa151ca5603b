package service_test

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/idl/kitex_gen/warehouse"
)

func freezeReq(payID string, items ...*warehouse.Item) *warehouse.FreezeRequest {
	return &warehouse.FreezeRequest{PayId: payID, Items: items}
}

func item(productID int64, amount int32) *warehouse.Item {
	return &warehouse.Item{ProductId: productID, Amount: amount}
}

// TestFreezeNoOversell fires 200 single-unit freezes at a product with 30 in
// stock while a sampler watches the stockpile: exactly 30 succeed, and no
// unit is ever lost or created on the way.
func TestFreezeNoOversell(t *testing.T) {
	e := newEnv(t)
	const calls = 200

	done := make(chan struct{})
	samples := 0
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			s, err := e.client.GetStockpile(e.service, &warehouse.StockpileRequest{ProductId: 1})
			if err != nil {
				t.Errorf("sample: %v", err)
				return
			}
			samples++
			if s.Amount+s.Frozen != 30 || s.Amount < 0 || s.Frozen < 0 {
				t.Errorf("sampled amount %d frozen %d: the units do not add up to 30", s.Amount, s.Frozen)
			}
			select {
			case <-done:
				return
			default:
			}
		}
	})

	var ok, short atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range calls {
		wg.Go(func() {
			<-start
			resp, err := e.client.Freeze(e.service, freezeReq(fmt.Sprintf("oversell-%d", i), item(1, 1)))
			switch {
			case err == nil:
				ok.Add(1)
				if len(resp.Items) != 1 || resp.Items[0].Price != 129 || resp.Items[0].Amount != 1 {
					t.Errorf("freeze %d returned %v", i, resp.Items)
				}
			case rpcerr.Is(err, rpcerr.InsufficientStock):
				short.Add(1)
			default:
				t.Errorf("freeze %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	close(done)
	sampler.Wait()

	if ok.Load() != 30 || short.Load() != calls-30 {
		t.Errorf("%d freezes succeeded and %d were short, want 30 and %d", ok.Load(), short.Load(), calls-30)
	}
	wantStock(t, e, 1, 0, 30)
	t.Logf("%d stock samples taken during the run", samples)
}

func TestFreezeAllOrNothing(t *testing.T) {
	e := newEnv(t)
	must[*warehouse.Empty](t)(e.client.SetStockpile(e.admin, &warehouse.SetStockpileRequest{ProductId: 3, Amount: 2}))

	// The last item is short: nothing of the earlier ones may stay frozen.
	_, err := e.client.Freeze(e.service, freezeReq("short", item(1, 5), item(2, 5), item(3, 3)))
	wantCode(t, err, rpcerr.InsufficientStock, "商品库存不足")
	wantStock(t, e, 1, 30, 0)
	wantStock(t, e, 2, 30, 0)
	wantStock(t, e, 3, 2, 0)

	// An unknown product in the list: NOT_FOUND, again nothing frozen.
	_, err = e.client.Freeze(e.service, freezeReq("unknown", item(1, 1), item(10086, 1)))
	wantCode(t, err, rpcerr.NotFound, "")
	wantStock(t, e, 1, 30, 0)

	// A refused freeze leaves no reservation behind: the same pay id can
	// freeze once there is stock.
	_, err = e.client.Decrease(e.service, &warehouse.ReservationRequest{PayId: "short"})
	wantCode(t, err, rpcerr.NotFound, "")
	must[*warehouse.Empty](t)(e.client.SetStockpile(e.admin, &warehouse.SetStockpileRequest{ProductId: 3, Amount: 3}))
	resp := must[*warehouse.FreezeResponse](t)(e.client.Freeze(e.service, freezeReq("short", item(1, 5), item(2, 5), item(3, 3))))
	if len(resp.Items) != 3 {
		t.Fatalf("items = %v", resp.Items)
	}
	wantStock(t, e, 1, 25, 5)
	wantStock(t, e, 2, 25, 5)
	wantStock(t, e, 3, 0, 3)
}

func TestFreezeInput(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		req  *warehouse.FreezeRequest
		code rpcerr.Code
	}{
		{"no items", freezeReq("a"), rpcerr.InvalidArgument},
		{"zero amount", freezeReq("b", item(1, 0)), rpcerr.InvalidArgument},
		{"negative amount", freezeReq("c", item(1, 2), item(2, -1)), rpcerr.InvalidArgument},
		{"no pay id", freezeReq("", item(1, 1)), rpcerr.InvalidArgument},
		{"unknown product", freezeReq("d", item(10086, 1)), rpcerr.NotFound},
		{"product id 0", freezeReq("e", item(0, 1)), rpcerr.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.client.Freeze(e.service, tt.req)
			wantCode(t, err, tt.code, "")
		})
	}
	wantStock(t, e, 1, 30, 0)
	wantStock(t, e, 2, 30, 0)

	// Repeated products are merged; the prices are the warehouse's own.
	resp := must[*warehouse.FreezeResponse](t)(e.client.Freeze(e.service, freezeReq("merge", item(2, 1), item(1, 2), item(2, 3))))
	want := []*warehouse.PricedItem{{ProductId: 1, Amount: 2, Price: 129}, {ProductId: 2, Amount: 4, Price: 69}}
	if !reflect.DeepEqual(resp.Items, want) {
		t.Errorf("items = %v, want %v", resp.Items, want)
	}
	wantStock(t, e, 1, 28, 2)
	wantStock(t, e, 2, 26, 4)
}

func TestFreezeKeepsThePriceOfItsTime(t *testing.T) {
	e := newEnv(t)
	first := must[*warehouse.FreezeResponse](t)(e.client.Freeze(e.service, freezeReq("price", item(1, 1))))
	p := must[*warehouse.Product](t)(e.client.GetProduct(e.anon, &warehouse.ProductIdRequest{Id: 1}))
	p.Price = price(99.99)
	must[*warehouse.Product](t)(e.client.UpdateProduct(e.admin, &warehouse.ProductRequest{Product: p}))

	again := must[*warehouse.FreezeResponse](t)(e.client.Freeze(e.service, freezeReq("price", item(1, 1))))
	if first.Items[0].Price != 129 || again.Items[0].Price != 129 {
		t.Errorf("prices = %v then %v, want 129 both times", first.Items[0].Price, again.Items[0].Price)
	}
	later := must[*warehouse.FreezeResponse](t)(e.client.Freeze(e.service, freezeReq("price-2", item(1, 1))))
	if later.Items[0].Price != 99.99 {
		t.Errorf("a new freeze got price %v, want 99.99", later.Items[0].Price)
	}
}

// concurrently runs f n times at once and returns the errors.
func concurrently(n int, f func() error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f()
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func noErrors(t *testing.T, what string, errs []error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
}

func TestReservationIdempotency(t *testing.T) {
	e := newEnv(t)
	freeze := func(payID string) func() error {
		return func() error {
			resp, err := e.client.Freeze(e.service, freezeReq(payID, item(1, 2), item(2, 1)))
			if err == nil && len(resp.Items) != 2 {
				return fmt.Errorf("freeze returned %v", resp.Items)
			}
			return err
		}
	}
	thaw := func(payID string) func() error {
		return func() error {
			_, err := e.client.Thaw(e.service, &warehouse.ReservationRequest{PayId: payID})
			return err
		}
	}
	decrease := func(payID string) func() error {
		return func() error {
			_, err := e.client.Decrease(e.service, &warehouse.ReservationRequest{PayId: payID})
			return err
		}
	}

	t.Run("freeze then thaw", func(t *testing.T) {
		noErrors(t, "freeze", []error{freeze("a")(), freeze("a")()})
		wantStock(t, e, 1, 28, 2)
		noErrors(t, "freeze", concurrently(10, freeze("a")))
		wantStock(t, e, 1, 28, 2)
		wantStock(t, e, 2, 29, 1)

		noErrors(t, "thaw", []error{thaw("a")(), thaw("a")()})
		wantStock(t, e, 1, 30, 0)
		noErrors(t, "thaw", concurrently(10, thaw("a")))
		wantStock(t, e, 1, 30, 0)
		wantStock(t, e, 2, 30, 0)

		wantCode(t, decrease("a")(), rpcerr.FailedPrecondition, "")
		wantCode(t, freeze("a")(), rpcerr.FailedPrecondition, "")
		wantStock(t, e, 1, 30, 0)
	})

	t.Run("concurrent first freezes", func(t *testing.T) {
		// The unique pay id decides: one freezes, the rest get its items.
		noErrors(t, "freeze", concurrently(10, freeze("b")))
		wantStock(t, e, 1, 28, 2)
		wantStock(t, e, 2, 29, 1)
	})

	t.Run("freeze then decrease", func(t *testing.T) {
		noErrors(t, "decrease", []error{decrease("b")(), decrease("b")()})
		wantStock(t, e, 1, 28, 0)
		noErrors(t, "decrease", concurrently(10, decrease("b")))
		wantStock(t, e, 1, 28, 0)
		wantStock(t, e, 2, 29, 0)

		wantCode(t, thaw("b")(), rpcerr.FailedPrecondition, "")
		// A repeated freeze of a shipped reservation answers its items and
		// changes nothing.
		noErrors(t, "freeze", []error{freeze("b")()})
		wantStock(t, e, 1, 28, 0)
	})

	t.Run("concurrent first thaws and decreases", func(t *testing.T) {
		noErrors(t, "freeze", []error{freeze("c")(), freeze("d")()})
		wantStock(t, e, 1, 24, 4)
		noErrors(t, "thaw", concurrently(10, thaw("c")))
		noErrors(t, "decrease", concurrently(10, decrease("d")))
		wantStock(t, e, 1, 26, 0)
		wantStock(t, e, 2, 28, 0)
	})

	t.Run("decrease of an unknown pay id", func(t *testing.T) {
		wantCode(t, decrease("nobody")(), rpcerr.NotFound, "")
	})

	t.Run("thaw before freeze leaves a tombstone", func(t *testing.T) {
		noErrors(t, "thaw", []error{thaw("late")()})
		wantCode(t, freeze("late")(), rpcerr.FailedPrecondition, "该支付单的库存已解冻，不允许再冻结")
		wantCode(t, decrease("late")(), rpcerr.FailedPrecondition, "")
		noErrors(t, "thaw", []error{thaw("late")()})
		wantStock(t, e, 1, 26, 0)
		wantStock(t, e, 2, 28, 0)
	})

	t.Run("thaw racing freeze", func(t *testing.T) {
		// Whichever comes first, the stock ends where it started: either the
		// freeze is thawed, or the tombstone refuses it.
		for i := range 5 {
			payID := fmt.Sprintf("race-%d", i)
			errs := concurrently(2, func() func() error {
				var n atomic.Int32
				return func() error {
					if n.Add(1) == 1 {
						return freeze(payID)()
					}
					return thaw(payID)()
				}
			}())
			for _, err := range errs {
				if err != nil && !rpcerr.Is(err, rpcerr.FailedPrecondition) {
					t.Fatalf("%s: %v", payID, err)
				}
			}
			noErrors(t, "thaw", []error{thaw(payID)()})
			wantStock(t, e, 1, 26, 0)
		}
	})

	t.Run("empty pay id", func(t *testing.T) {
		wantCode(t, thaw("")(), rpcerr.InvalidArgument, "")
		wantCode(t, decrease("")(), rpcerr.InvalidArgument, "")
	})
}

func TestReservationOfDeletedProduct(t *testing.T) {
	e := newEnv(t)
	must[*warehouse.FreezeResponse](t)(e.client.Freeze(e.service, freezeReq("gone", item(1, 1), item(6, 2))))
	must[*warehouse.Empty](t)(e.client.DeleteProduct(e.admin, &warehouse.ProductIdRequest{Id: 6}))
	// The thaw still returns what exists; the deleted product's stock is gone.
	must[*warehouse.Empty](t)(e.client.Thaw(e.service, &warehouse.ReservationRequest{PayId: "gone"}))
	wantStock(t, e, 1, 30, 0)
}
