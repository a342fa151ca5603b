package command

import (
	"context"

	"example.com/bookstore/warehouse/internal/domain"
)

// Decrease ships a settlement's frozen stock once it is paid.
type Decrease struct {
	PayID string
}

type DecreaseHandler struct {
	reservations domain.ReservationRepository
}

func NewDecreaseHandler(reservations domain.ReservationRepository) DecreaseHandler {
	return DecreaseHandler{reservations: reservations}
}

// Handle is idempotent; an unknown pay id is NOT_FOUND.
func (h DecreaseHandler) Handle(ctx context.Context, cmd Decrease) error {
	if err := domain.CheckPayID(cmd.PayID); err != nil {
		return err
	}
	return h.reservations.UpdateReservation(ctx, cmd.PayID, func(r *domain.Reservation) ([]domain.StockChange, error) {
		return r.Decrease()
	})
}
