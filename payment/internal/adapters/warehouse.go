package adapters

import (
	"context"
	"fmt"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/client/callopt"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/rpcclient"
	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/idl/kitex_gen/warehouse"
	"example.com/bookstore/idl/kitex_gen/warehouse/warehouseservice"
	"example.com/bookstore/payment/internal/domain"
)

// Warehouse is domain.Warehouse over the warehouse service's Kitex client.
// Every call carries this service's own SERVICE-scope token: reservations
// are service-to-service operations, whoever the buyer is.
type Warehouse struct {
	client   warehouseservice.Client
	tokens   *auth.ServiceTokens
	timeouts func() rpcclient.Config
}

// WarehouseClientOptions are the options to build the adapter's client
// with. Every call the adapter makes carries the payId it reserves for, and
// the warehouse applies each payId once, so all of them may be retried.
func WarehouseClientOptions(cfg rpcclient.Config) []client.Option {
	return rpcclient.Options(cfg, rpcclient.Idempotent("Freeze", "Thaw", "Decrease"))
}

// NewWarehouse returns the adapter; client must be built with
// WarehouseClientOptions. timeouts is read per call, so that changed
// timeouts in a reloaded config apply to the next call.
func NewWarehouse(client warehouseservice.Client, tokens *auth.ServiceTokens, timeouts func() rpcclient.Config) *Warehouse {
	return &Warehouse{client: client, tokens: tokens, timeouts: timeouts}
}

func (w *Warehouse) callOptions() []callopt.Option {
	if w.timeouts == nil {
		return nil
	}
	return rpcclient.CallOptions(w.timeouts())
}

// Freeze implements domain.Warehouse.
func (w *Warehouse) Freeze(ctx context.Context, payID string, items []domain.Item) ([]domain.PricedItem, error) {
	ctx, err := w.tokens.Context(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: service token: %v", domain.ErrWarehouseRefused, err)
	}
	req := &warehouse.FreezeRequest{PayId: payID, Items: make([]*warehouse.Item, 0, len(items))}
	for _, it := range items {
		req.Items = append(req.Items, &warehouse.Item{ProductId: it.ProductID, Amount: it.Amount})
	}
	resp, err := w.client.Freeze(ctx, req, w.callOptions()...)
	if err != nil {
		return nil, warehouseError("freeze", err)
	}
	out := make([]domain.PricedItem, 0, len(resp.GetItems()))
	for _, pi := range resp.GetItems() {
		price, err := domain.CentsOf(pi.GetPrice())
		if err != nil {
			return nil, fmt.Errorf("%w: product %d: %v", domain.ErrWarehouseRefused, pi.GetProductId(), err)
		}
		out = append(out, domain.PricedItem{
			Item:      domain.Item{ProductID: pi.GetProductId(), Amount: pi.GetAmount()},
			UnitPrice: price,
		})
	}
	return out, nil
}

// Thaw implements domain.Warehouse.
func (w *Warehouse) Thaw(ctx context.Context, payID string) error {
	ctx, err := w.tokens.Context(ctx)
	if err != nil {
		return fmt.Errorf("%w: service token: %v", domain.ErrWarehouseUnavailable, err)
	}
	if _, err := w.client.Thaw(ctx, &warehouse.ReservationRequest{PayId: payID}, w.callOptions()...); err != nil {
		return warehouseError("thaw", err)
	}
	return nil
}

// Decrease implements domain.Warehouse.
func (w *Warehouse) Decrease(ctx context.Context, payID string) error {
	ctx, err := w.tokens.Context(ctx)
	if err != nil {
		return fmt.Errorf("%w: service token: %v", domain.ErrWarehouseUnavailable, err)
	}
	if _, err := w.client.Decrease(ctx, &warehouse.ReservationRequest{PayId: payID}, w.callOptions()...); err != nil {
		return warehouseError("decrease", err)
	}
	return nil
}

// warehouseError sorts a failed call into the domain's errors. Whatever is
// not a business answer (connection refused, timeout, a cancelled context)
// is "unavailable": the call may have run. Credential problems count as
// unavailable too, since fixing the config and retrying will succeed.
func warehouseError(op string, err error) error {
	code, msg, ok := rpcerr.From(err)
	if !ok {
		return fmt.Errorf("%w: %s: %v", domain.ErrWarehouseUnavailable, op, err)
	}
	switch code {
	case rpcerr.NotFound:
		if op == "freeze" {
			return fmt.Errorf("%w: %s", domain.ErrUnknownProduct, msg)
		}
	case rpcerr.InsufficientStock:
		return fmt.Errorf("%w: %s", domain.ErrInsufficientStock, msg)
	case rpcerr.Unavailable, rpcerr.Unauthenticated, rpcerr.PermissionDenied:
		return fmt.Errorf("%w: %s: %s %s", domain.ErrWarehouseUnavailable, op, code, msg)
	}
	return fmt.Errorf("%w: %s: %s %s", domain.ErrWarehouseRefused, op, code, msg)
}
