package app

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"example.com/bookstore/payment/internal/app/command"
)

// WorkerSettings are read before every wait, so a live config change
// applies from the next tick.
type WorkerSettings struct {
	SweepInterval time.Duration // how often expired payments are timed out
	RetryInterval time.Duration // how often the outbox is scanned for due rows
}

// purgeInterval is how often delivered outbox rows past their retention
// are deleted: the retention is counted in hours or days, so a minute late
// is nothing, and the query is cheap when there is nothing to delete.
const purgeInterval = time.Minute

// Worker runs the background loops: the expiry sweeper, the outbox
// dispatcher and the outbox purger. All their state is in the database,
// so a restarted (or another) process picks up where this one stopped.
type Worker struct {
	expire   command.ExpireDueHandler
	deliver  command.DeliverHandler
	purge    command.PurgeOutboxHandler
	settings func() WorkerSettings
	kick     chan struct{}
}

// NewWorker returns a worker; Kick may be called before Run.
func NewWorker(settings func() WorkerSettings) *Worker {
	return &Worker{settings: settings, kick: make(chan struct{}, 1)}
}

// Bind sets the handlers (they need the worker as their Kicker, hence two steps).
func (w *Worker) Bind(expire command.ExpireDueHandler, deliver command.DeliverHandler, purge command.PurgeOutboxHandler) {
	w.expire, w.deliver, w.purge = expire, deliver, purge
}

// Kick asks the dispatcher for a pass now; it never blocks.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// kickLinger is how long the dispatcher waits after a kick before its pass,
// so that the stock actions of the payments made meanwhile go in the same
// pass: at a few hundred payments a second, a pass per payment cost two
// commits and a claim of its own for each. The warehouse learns of a
// payment that much later; nobody waits for it.
const kickLinger = 10 * time.Millisecond

// Run runs the loops until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() {
		w.loop(ctx, "sweeper", nil, 0, func() time.Duration { return w.settings().SweepInterval }, func(ctx context.Context) error {
			_, err := w.expire.Handle(ctx)
			return err
		})
	})
	wg.Go(func() {
		w.loop(ctx, "dispatcher", w.kick, kickLinger, func() time.Duration { return w.settings().RetryInterval }, func(ctx context.Context) error {
			_, err := w.deliver.Handle(ctx)
			return err
		})
	})
	wg.Go(func() {
		w.loop(ctx, "purger", nil, 0, func() time.Duration { return purgeInterval }, func(ctx context.Context) error {
			_, err := w.purge.Handle(ctx)
			return err
		})
	})
	wg.Wait()
}

func (w *Worker) loop(ctx context.Context, name string, kick <-chan struct{}, linger time.Duration, interval func() time.Duration, pass func(context.Context) error) {
	for {
		if err := safePass(ctx, pass); err != nil && ctx.Err() == nil {
			slog.WarnContext(ctx, name+" pass failed", "err", err)
		}
		d := interval()
		if d <= 0 {
			d = time.Second
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-kick:
			t.Reset(linger)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		case <-t.C:
		}
		t.Stop()
	}
}

// safePass keeps a bug in one pass from killing the loop (and the process).
func safePass(ctx context.Context, pass func(context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return pass(ctx)
}
