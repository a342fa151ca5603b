package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"example.com/bookstore/payment/internal/domain"
)

// Delivery is one stock action waiting in the outbox.
type Delivery struct {
	ID       int64
	PayID    string
	Action   domain.StockAction
	Attempts int // delivery attempts before this one
}

// Outbox is the durable queue of stock actions, written in the same
// transactions as the payment state changes that cause them.
//
// A row is claimed before it is sent: Claim sets a lease only if nobody
// holds one, so two replicas never send the same row at the same time, and
// a replica that dies mid-delivery only delays the row until its lease ends.
type Outbox interface {
	// Due returns up to limit undelivered rows whose next attempt time has
	// come and that nobody holds a lease on.
	Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// Claim leases the row to owner until leaseUntil; false if another
	// owner holds it or it was delivered meanwhile.
	Claim(ctx context.Context, id int64, owner string, now, leaseUntil time.Time) (bool, error)
	// Delivered marks the row done.
	Delivered(ctx context.Context, id int64, owner string, now time.Time) error
	// Retry releases the lease and schedules the next attempt.
	Retry(ctx context.Context, id int64, owner string, next time.Time, reason string) error
	// GiveUp parks a row the warehouse refused for good, for an operator.
	GiveUp(ctx context.Context, id int64, owner string, now time.Time, reason string) error
}

// DeliverSettings are read at every pass (they may change live).
type DeliverSettings struct {
	RetryInterval time.Duration // first retry delay; doubles per attempt
	MaxBackoff    time.Duration // cap of the retry delay
	Lease         time.Duration // how long a claimed row is ours
}

// deliverBatch bounds one pass; a full batch is followed by another at once.
const deliverBatch = 50

// DeliverHandler sends due outbox rows to the warehouse until each one is
// acknowledged. Redelivery is safe: Thaw and Decrease are idempotent by pay id.
type DeliverHandler struct {
	outbox   Outbox
	stock    domain.Warehouse
	owner    string
	now      Clock
	settings func() DeliverSettings
}

// NewDeliverHandler returns a dispatcher pass; owner names this replica in
// the leases it takes.
func NewDeliverHandler(outbox Outbox, stock domain.Warehouse, owner string, now Clock, settings func() DeliverSettings) DeliverHandler {
	return DeliverHandler{outbox: outbox, stock: stock, owner: owner, now: now, settings: settings}
}

// Handle delivers what is due now and returns how many rows were acknowledged.
func (h DeliverHandler) Handle(ctx context.Context) (int, error) {
	done := 0
	for {
		s := h.settings()
		rows, err := h.outbox.Due(ctx, h.now(), deliverBatch)
		if err != nil {
			return done, err
		}
		for _, d := range rows {
			if ctx.Err() != nil {
				return done, ctx.Err()
			}
			ok, err := h.deliver(ctx, d, s)
			if err != nil {
				return done, err
			}
			if ok {
				done++
			}
		}
		if len(rows) < deliverBatch {
			return done, nil
		}
	}
}

func (h DeliverHandler) deliver(ctx context.Context, d Delivery, s DeliverSettings) (bool, error) {
	now := h.now()
	claimed, err := h.outbox.Claim(ctx, d.ID, h.owner, now, now.Add(s.Lease))
	if err != nil || !claimed {
		return false, err
	}

	callCtx, cancel := context.WithTimeout(ctx, s.Lease/2)
	switch d.Action {
	case domain.ActionThaw:
		err = h.stock.Thaw(callCtx, d.PayID)
	case domain.ActionDecrease:
		err = h.stock.Decrease(callCtx, d.PayID)
	default:
		err = fmt.Errorf("%w: unknown stock action %q", domain.ErrWarehouseRefused, d.Action)
	}
	cancel()

	// The bookkeeping must happen even if ctx ended during the call, or a
	// delivered row would be sent again after the lease.
	bctx, bcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer bcancel()
	switch {
	case err == nil:
		return true, h.outbox.Delivered(bctx, d.ID, h.owner, h.now())
	case errors.Is(err, domain.ErrWarehouseRefused):
		slog.ErrorContext(ctx, "warehouse refused a stock action; parked for an operator",
			"pay_id", d.PayID, "action", d.Action, "err", err)
		return false, h.outbox.GiveUp(bctx, d.ID, h.owner, h.now(), err.Error())
	default:
		delay := backoff(s, d.Attempts+1)
		slog.WarnContext(ctx, "stock action not delivered; will retry",
			"pay_id", d.PayID, "action", d.Action, "attempt", d.Attempts+1, "retry_in", delay, "err", err)
		return false, h.outbox.Retry(bctx, d.ID, h.owner, h.now().Add(delay), err.Error())
	}
}

// backoff is RetryInterval doubled per failed attempt, capped at MaxBackoff.
func backoff(s DeliverSettings, attempt int) time.Duration {
	d := s.RetryInterval
	if d <= 0 {
		d = time.Second
	}
	for i := 1; i < attempt && d < s.MaxBackoff; i++ {
		d *= 2
	}
	if s.MaxBackoff > 0 && d > s.MaxBackoff {
		d = s.MaxBackoff
	}
	return d
}
