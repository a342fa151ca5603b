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
	// The common repeat (a retry after a lost reply) is answered without
	// touching stock; a concurrent twin is caught by AddReservation below.
	if r, err := h.reservations.GetReservation(ctx, cmd.PayID); err == nil {
		return r.Refreeze()
	} else if !errors.Is(err, domain.ErrNotFound) {
		return nil, err
	}

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
