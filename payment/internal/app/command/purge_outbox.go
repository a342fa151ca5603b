package command

import (
	"context"
	"time"
)

// purgeBatch bounds one delete, so that a purge never holds the single
// SQLite writer for long; a full batch is followed by another at once.
const purgeBatch = 500

// OutboxPurger forgets delivered stock actions.
type OutboxPurger interface {
	// PurgeDelivered deletes up to limit rows delivered before doneBefore
	// and returns how many it deleted. Rows parked for an operator stay.
	PurgeDelivered(ctx context.Context, doneBefore time.Time, limit int) (int, error)
}

// PurgeOutboxHandler deletes delivered outbox rows once they are older than
// the retention. A delivered row is history only (the warehouse keeps the
// reservation's own state, which is what makes redelivery safe), and every
// paid settlement leaves one, so without this the table grows for ever.
type PurgeOutboxHandler struct {
	outbox    OutboxPurger
	now       Clock
	retention func() time.Duration
}

func NewPurgeOutboxHandler(outbox OutboxPurger, now Clock, retention func() time.Duration) PurgeOutboxHandler {
	return PurgeOutboxHandler{outbox: outbox, now: now, retention: retention}
}

// Handle runs one purge and returns how many rows it deleted.
func (h PurgeOutboxHandler) Handle(ctx context.Context) (int, error) {
	before := h.now().Add(-h.retention())
	total := 0
	for {
		n, err := h.outbox.PurgeDelivered(ctx, before, purgeBatch)
		total += n
		if err != nil || n < purgeBatch {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
