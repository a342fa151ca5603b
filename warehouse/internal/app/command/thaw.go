package command

import (
	"context"
	"errors"
	"fmt"

	"example.com/bookstore/warehouse/internal/domain"
)

// Thaw returns a settlement's frozen stock for sale.
type Thaw struct {
	PayID string
}

type ThawHandler struct {
	reservations domain.ReservationRepository
}

func NewThawHandler(reservations domain.ReservationRepository) ThawHandler {
	return ThawHandler{reservations: reservations}
}

// Handle is idempotent. A thaw of an unknown pay id succeeds and leaves a
// tombstone: the compensation of a settlement can overtake its freeze (a
// delayed or retried request), and that freeze must then be refused rather
// than hold stock no one will release.
func (h ThawHandler) Handle(ctx context.Context, cmd Thaw) error {
	if err := domain.CheckPayID(cmd.PayID); err != nil {
		return err
	}
	thaw := func(r *domain.Reservation) ([]domain.StockChange, error) { return r.Thaw() }
	// Two rounds cover the race where a freeze (or another thaw) stores the
	// pay id between our update and our tombstone.
	for range 2 {
		err := h.reservations.UpdateReservation(ctx, cmd.PayID, thaw)
		if !errors.Is(err, domain.ErrNotFound) {
			return err
		}
		tomb, err := domain.ThawedTombstone(cmd.PayID)
		if err != nil {
			return err
		}
		err = h.reservations.AddReservation(ctx, tomb)
		if !errors.Is(err, domain.ErrReservationExists) {
			return err
		}
	}
	return fmt.Errorf("thaw %s: reservation kept changing", cmd.PayID)
}
