package command

import (
	"context"

	"example.com/bookstore/payment/internal/domain"
)

// Cancel gives up a payment.
type Cancel struct {
	PayID string
}

// CancelHandler moves a payment WAITING -> CANCEL and enqueues the thaw of
// its stock in the same transaction.
type CancelHandler struct {
	repo domain.Repository
	kick Kicker
	now  Clock
}

func NewCancelHandler(repo domain.Repository, kick Kicker, now Clock) CancelHandler {
	return CancelHandler{repo: repo, kick: kick, now: now}
}

func (h CancelHandler) Handle(ctx context.Context, cmd Cancel) error {
	var refusal error
	err := h.repo.UpdatePayment(ctx, cmd.PayID, func(p *domain.Payment) error {
		refusal = nil // fn runs again if the transaction is retried
		now := h.now()
		if p.IsDue(now) {
			if err := p.Expire(now); err != nil {
				return err
			}
			refusal = &domain.StateError{Op: domain.OpCancel, State: domain.StateTimeout}
			return nil
		}
		return p.Cancel(now)
	})
	if err != nil {
		return err
	}
	h.kick.Kick()
	return refusal
}
