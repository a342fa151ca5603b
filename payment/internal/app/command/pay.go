package command

import (
	"context"

	"example.com/bookstore/payment/internal/domain"
)

// Pay charges a payment to the wallet of AccountID.
type Pay struct {
	PayID     string
	AccountID int64
}

// PayHandler moves a payment WAITING -> PAYED, debits the wallet and
// enqueues the warehouse decrease, all in one local transaction.
type PayHandler struct {
	repo domain.Repository
	kick Kicker
	now  Clock
}

func NewPayHandler(repo domain.Repository, kick Kicker, now Clock) PayHandler {
	return PayHandler{repo: repo, kick: kick, now: now}
}

func (h PayHandler) Handle(ctx context.Context, cmd Pay) error {
	var refusal error
	err := h.repo.UpdatePaymentAndWallet(ctx, cmd.PayID, cmd.AccountID, func(p *domain.Payment, w *domain.Wallet) error {
		refusal = nil // fn runs again if the transaction is retried
		now := h.now()
		if p.IsDue(now) {
			// Expired but not swept yet: time it out here (committing the
			// thaw) and refuse, so the stock is not shipped after it was
			// promised back.
			if err := p.Expire(now); err != nil {
				return err
			}
			refusal = &domain.StateError{Op: domain.OpPay, State: domain.StateTimeout}
			return nil
		}
		if err := p.Pay(now); err != nil {
			return err
		}
		return w.Debit(p.Total())
	})
	if err != nil {
		return err
	}
	h.kick.Kick()
	return refusal
}
