package command

import (
	"context"
	"errors"

	"example.com/bookstore/warehouse/internal/domain"
)

// Freeze reserves every item for a settlement, or none.
type Freeze struct {
	PayID string
	Items []domain.Item
}

type FreezeHandler struct {
	products     domain.ProductRepository
	reservations domain.ReservationRepository
}

func NewFreezeHandler(products domain.ProductRepository, reservations domain.ReservationRepository) FreezeHandler {
	return FreezeHandler{products: products, reservations: reservations}
}

// Handle returns the frozen items with their unit prices. It is idempotent
// by pay id: a repeated call returns what the first one froze and changes
// nothing, and a call after the pay id was thawed is refused.
func (h FreezeHandler) Handle(ctx context.Context, cmd Freeze) ([]domain.PricedItem, error) {
	if err := domain.CheckPayID(cmd.PayID); err != nil {
		return nil, err
	}
	items, err := domain.NormalizeItems(cmd.Items)
	if err != nil {
		return nil, err
	}
	// A repeat (a retry after a lost reply) is caught by AddReservation,
	// whose insert of the pay id comes before any stock is touched; so the
	// common first call pays no extra read.
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ProductID
	}
	prices, err := h.products.Prices(ctx, ids)
	if err != nil {
		return nil, err
	}
	r, err := domain.NewReservation(cmd.PayID, items, prices)
	if err != nil {
		// A repeat gets what the first call froze, even if a product
		// has gone since.
		if stored, gerr := h.reservations.GetReservation(ctx, cmd.PayID); gerr == nil {
			return stored.Refreeze()
		}
		return nil, err
	}
	err = h.reservations.AddReservation(ctx, r)
	if errors.Is(err, domain.ErrReservationExists) {
		stored, err := h.reservations.GetReservation(ctx, cmd.PayID)
		if err != nil {
			return nil, err
		}
		return stored.Refreeze()
	}
	if err != nil {
		return nil, err
	}
	return r.Items(), nil
}
