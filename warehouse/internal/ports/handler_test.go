package ports

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/idl/kitex_gen/warehouse"
	"example.com/bookstore/warehouse/internal/app"
	"example.com/bookstore/warehouse/internal/domain"
)

// nilRepos panic on every call: their embedded interfaces are nil.
type nilProducts struct{ domain.ProductRepository }
type nilReservations struct{ domain.ReservationRepository }

func TestPanicsDoNotReachTheCaller(t *testing.T) {
	h := NewHandler(app.New(app.Repositories{Products: nilProducts{}, Reservations: nilReservations{}}))
	svc := auth.NewContext(context.Background(), auth.Principal{Scopes: []string{auth.ScopeService}})

	_, err := h.ListProducts(context.Background(), &warehouse.ListProductsRequest{})
	if !errors.Is(err, errInternal) {
		t.Errorf("ListProducts over a panicking repository = %v, want errInternal", err)
	}
	_, err = h.Freeze(svc, &warehouse.FreezeRequest{PayId: "p", Items: []*warehouse.Item{{ProductId: 1, Amount: 1}}})
	if !errors.Is(err, errInternal) {
		t.Errorf("Freeze over a panicking repository = %v, want errInternal", err)
	}
}

func TestToRPC(t *testing.T) {
	tests := []struct {
		err  error
		code rpcerr.Code
		msg  string
	}{
		{domain.Invalid("坏"), rpcerr.InvalidArgument, "坏"},
		{fmt.Errorf("wrapped: %w", domain.ProductNotFound(3)), rpcerr.NotFound, "No class com.github.fenixsoft.bookstore.domain.warehouse.Product entity with id 3 exists!"},
		{domain.StockpileNotFound(4), rpcerr.NotFound, "4"},
		{domain.InsufficientStock(), rpcerr.InsufficientStock, "商品库存不足"},
		{refreezeThawed(), rpcerr.FailedPrecondition, domain.MsgRefreezeThawed},
		{context.DeadlineExceeded, rpcerr.Unavailable, ""},
	}
	for _, tt := range tests {
		got := toRPC(context.Background(), "m", tt.err)
		code, msg, ok := rpcerr.From(got)
		if !ok || code != tt.code || (tt.msg != "" && msg != tt.msg) {
			t.Errorf("toRPC(%v) = %v (%s %q), want %s %q", tt.err, got, code, msg, tt.code, tt.msg)
		}
	}
	if got := toRPC(context.Background(), "m", errors.New("db: connection refused on 10.0.0.1")); got != errInternal {
		t.Errorf("an unexpected error must not reach the caller: got %v", got)
	}
}

func refreezeThawed() error {
	_, err := domain.RestoreReservation("p", domain.Thawed, nil).Refreeze()
	return err
}
