package command

import (
	"context"
	"errors"
	"log/slog"

	"example.com/bookstore/payment/internal/domain"
)

// sweepBatch bounds one query of the sweeper; a full batch is followed by
// another at once.
const sweepBatch = 100

// ExpireDueHandler times out every WAITING payment past its expiry and
// enqueues the thaw of its stock (one transaction per payment). Several
// replicas may run it at once: the compare-and-set on the state lets exactly
// one of them expire each payment, and only that one enqueues the thaw.
type ExpireDueHandler struct {
	repo domain.Repository
	kick Kicker
	now  Clock
}

func NewExpireDueHandler(repo domain.Repository, kick Kicker, now Clock) ExpireDueHandler {
	return ExpireDueHandler{repo: repo, kick: kick, now: now}
}

// Handle runs one sweep and returns how many payments this call expired.
func (h ExpireDueHandler) Handle(ctx context.Context) (int, error) {
	expired := 0
	defer func() {
		if expired > 0 {
			h.kick.Kick()
		}
	}()
	for {
		now := h.now()
		ids, err := h.repo.DuePayments(ctx, now, sweepBatch)
		if err != nil {
			return expired, err
		}
		progress := 0
		var errs []error
		for _, id := range ids {
			err := h.repo.UpdatePayment(ctx, id, func(p *domain.Payment) error { return p.Expire(now) })
			var se *domain.StateError
			switch {
			case err == nil:
				expired++
				progress++
				slog.InfoContext(ctx, "payment timed out", "pay_id", id)
			case errors.As(err, &se), errors.Is(err, domain.ErrNotDue), errors.Is(err, domain.ErrPaymentNotFound):
				// Another replica (or a pay/cancel) got there first.
				progress++
			default:
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return expired, errors.Join(errs...)
		}
		if len(ids) < sweepBatch || progress == 0 || ctx.Err() != nil {
			return expired, ctx.Err()
		}
	}
}
