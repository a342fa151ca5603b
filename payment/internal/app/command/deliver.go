package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
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
// A row is claimed before it is sent: a claim sets a lease only if nobody
// holds one, so two replicas never send the same row at the same time, and
// a replica that dies mid-delivery only delays the row until its lease ends.
type Outbox interface {
	// ClaimDue leases to owner, until leaseUntil, up to limit undelivered
	// rows whose next attempt time has come and that nobody holds a lease
	// on, and returns them (Attempts counts the attempts before this one).
	ClaimDue(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]Delivery, error)
	// Delivered marks the rows done.
	Delivered(ctx context.Context, ids []int64, owner string, now time.Time) error
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

// deliverParallel bounds the warehouse calls of one pass in flight at a
// time: they are independent (one pay id each), and sending them one after
// another would leave the dispatcher waiting on round trips while
// payments pile up behind it.
const deliverParallel = 16

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
		if err := ctx.Err(); err != nil {
			return done, err
		}
		s := h.settings()
		now := h.now()
		rows, err := h.outbox.ClaimDue(ctx, h.owner, now, now.Add(s.Lease), deliverBatch)
		if err != nil {
			return done, err
		}
		n, err := h.deliver(ctx, rows, s)
		done += n
		if err != nil {
			return done, err
		}
		if len(rows) < deliverBatch {
			return done, nil
		}
	}
}

// deliver sends the claimed rows and books the outcome: the acknowledged
// ones in one write, the others one by one (they are the rare case).
func (h DeliverHandler) deliver(ctx context.Context, rows []Delivery, s DeliverSettings) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	errs := make([]error, len(rows))
	callCtx, cancel := context.WithTimeout(ctx, s.Lease/2)
	var wg sync.WaitGroup
	sem := make(chan struct{}, deliverParallel)
	for i, d := range rows {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() {
				// A bug in one call must not take the process down (the
				// worker recovers its passes, not these goroutines); the
				// row is retried like any other failure.
				if r := recover(); r != nil {
					errs[i] = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
				}
				<-sem
			}()
			errs[i] = h.send(callCtx, d)
		})
	}
	wg.Wait()
	cancel()

	// The bookkeeping must happen even if ctx ended during the calls, or a
	// delivered row would be sent again after the lease.
	bctx, bcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer bcancel()
	acked := make([]int64, 0, len(rows))
	var firstErr error
	for i, d := range rows {
		err := errs[i]
		switch {
		case err == nil:
			acked = append(acked, d.ID)
			continue
		case errors.Is(err, domain.ErrWarehouseRefused):
			slog.ErrorContext(ctx, "warehouse refused a stock action; parked for an operator",
				"pay_id", d.PayID, "action", d.Action, "err", err)
			err = h.outbox.GiveUp(bctx, d.ID, h.owner, h.now(), err.Error())
		default:
			delay := backoff(s, d.Attempts+1)
			slog.WarnContext(ctx, "stock action not delivered; will retry",
				"pay_id", d.PayID, "action", d.Action, "attempt", d.Attempts+1, "retry_in", delay, "err", err)
			err = h.outbox.Retry(bctx, d.ID, h.owner, h.now().Add(delay), err.Error())
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if err := h.outbox.Delivered(bctx, acked, h.owner, h.now()); err != nil {
		return 0, err
	}
	return len(acked), firstErr
}

func (h DeliverHandler) send(ctx context.Context, d Delivery) error {
	switch d.Action {
	case domain.ActionThaw:
		return h.stock.Thaw(ctx, d.PayID)
	case domain.ActionDecrease:
		return h.stock.Decrease(ctx, d.PayID)
	default:
		return fmt.Errorf("%w: unknown stock action %q", domain.ErrWarehouseRefused, d.Action)
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
