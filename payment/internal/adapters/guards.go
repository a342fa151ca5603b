package adapters

import (
	"context"
	"errors"
	"sync"
	"time"
)

// guardBatch commits the freeze guards of concurrent settlements together.
// Every settlement must commit its guard before it freezes, and one
// transaction per guard made them queue one by one for SQLite's single
// writer; now the guards that arrive while one batch commits all go into
// the next, in one INSERT. Each caller returns once its own row is
// committed (or failed), exactly as with a transaction of its own.
//
// One of the waiting callers at a time leads: it takes the whole queue,
// commits it, answers the others and hands the lead to the first caller
// that queued meanwhile, so no caller ever commits more than one batch.
type guardBatch struct {
	mu    sync.Mutex
	queue []*guardReq
	busy  bool // a leader is committing
}

type guardReq struct {
	row  outboxModel
	done chan error // buffered: the result, or errLead
}

// errLead tells a queued caller that it leads the next batch.
var errLead = errors.New("lead the next batch")

// guardBatchTimeout bounds one batch's commit; it does not follow the
// leader's context, whose cancellation must not fail the others' guards.
const guardBatchTimeout = 10 * time.Second

// maxGuardBatch bounds one INSERT's rows (and so its bound parameters:
// 10 columns each, well under SQLite's and MySQL's limits).
const maxGuardBatch = 64

func (r *Repository) addGuard(ctx context.Context, row outboxModel) error {
	req := &guardReq{row: row, done: make(chan error, 1)}
	b := &r.guards
	b.mu.Lock()
	b.queue = append(b.queue, req)
	if b.busy {
		b.mu.Unlock()
		// Waits even if ctx ends: the lead may be handed to us, and a row
		// committed after its caller left is harmless (see GuardFreeze).
		if err := <-req.done; err != errLead {
			return err
		}
		b.mu.Lock()
	}
	b.busy = true
	n := min(len(b.queue), maxGuardBatch)
	batch := b.queue[:n:n]
	b.queue = b.queue[n:]
	b.mu.Unlock()

	errs := r.insertGuards(context.WithoutCancel(ctx), batch)
	var own error
	for i, q := range batch {
		if q == req {
			own = errs[i]
		} else {
			q.done <- errs[i]
		}
	}

	b.mu.Lock()
	if len(b.queue) == 0 {
		b.busy = false
		b.queue = nil
	} else {
		b.queue[0].done <- errLead
	}
	b.mu.Unlock()
	return own
}

// insertGuards commits the batch in one INSERT; if that fails, each row
// alone, so that every caller gets its own row's outcome.
func (r *Repository) insertGuards(ctx context.Context, batch []*guardReq) []error {
	ctx, cancel := context.WithTimeout(ctx, guardBatchTimeout)
	defer cancel()
	errs := make([]error, len(batch))
	rows := make([]outboxModel, len(batch))
	for i, q := range batch {
		rows[i] = q.row
	}
	if len(rows) > 1 {
		if err := r.db.WithContext(ctx).Create(&rows).Error; err == nil {
			return errs
		}
	}
	for i := range rows {
		errs[i] = r.db.WithContext(ctx).Create(&rows[i]).Error
	}
	return errs
}
