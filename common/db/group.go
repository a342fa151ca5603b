package db

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
)

// Transaction runs fn in a transaction on gdb's database, as gorm's
// Transaction does: if fn returns an error or panics, none of its writes
// remain; if it returns nil, they are committed when Transaction returns
// nil. On SQLite it joins the transactions of concurrent callers (see
// group). fn must use only the tx it is given and keep no state across
// runs: it may run more than once, when another call of its group fails
// (and a caller may retry it).
//
// A caller whose ctx ends while it waits for its turn is dropped; once fn
// runs, it runs to the end: interrupting a statement would make SQLite
// roll back the transaction of every caller that shares it.
//
// Called with a gdb that is itself inside a transaction, fn runs in a
// savepoint of that transaction (gorm's nesting).
func Transaction(ctx context.Context, gdb *gorm.DB, fn func(tx *gorm.DB) error) error {
	sqlDB, err := gdb.DB()
	if err != nil || gdb.Dialector.Name() != DriverSQLite {
		return gdb.WithContext(ctx).Transaction(fn)
	}
	g, ok := groups.Load(sqlDB)
	if !ok {
		// One group per database: its transactions run with the gorm
		// settings (logger, ...) of the *gorm.DB that started it, which in
		// a service is the one Open returned.
		g, _ = groups.LoadOrStore(sqlDB, &group{db: gdb.Session(&gorm.Session{NewDB: true})})
	}
	return g.(*group).transaction(ctx, fn)
}

// groups holds the group of each open SQLite database; Close drops it.
var groups sync.Map // *sql.DB -> *group

// group commits the transactions of concurrent callers together.
//
// Why: SQLite has one writer per database file. Under load, every write
// transaction of a service queued at the write gate (sqlite_gate.go), and
// each paid for its own BEGIN, its own COMMIT and its own copy of every page
// it touched in the write-ahead log, all while the others waited. A Group
// lets the transactions that arrive while one commits wait in Go instead,
// and then runs them all, one after the other, inside one database
// transaction with one COMMIT for all. A caller whose function fails leaves
// nothing behind: the others run again without it (see commit). Each caller
// returns once its own writes are committed (or failed), exactly as with a
// transaction of its own; the callers of one group are serialised just as
// the gate serialised them, so they see each other's writes in order.
//
// On MySQL, whose row locks let transactions run side by side, Transaction
// runs an ordinary transaction: grouping would make one caller's deadlock
// roll back the others' work.
type group struct {
	db *gorm.DB

	mu    sync.Mutex
	queue []*groupCall
	busy  bool // a leader is committing a group
}

type groupCall struct {
	ctx  context.Context
	fn   func(tx *gorm.DB) error
	err  error
	pan  any           // what fn panicked with, re-raised in the caller
	ran  bool          // fn succeeded inside the leader's transaction
	done chan struct{} // closed when err (and pan) are final
	lead chan struct{} // closed when this caller is to lead the next group
}

// maxGroup bounds the callers of one group, so that one commit's latency
// stays bounded under any load.
const maxGroup = 64

// groupTimeout bounds one group's transaction. It does not follow any
// caller's context: one caller giving up must not fail the others.
const groupTimeout = 30 * time.Second

func (g *group) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	c := &groupCall{ctx: ctx, fn: fn, done: make(chan struct{}), lead: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if g.busy {
		g.mu.Unlock()
		// Waits even if ctx ends: the lead may be handed to us, and the
		// leader skips a call whose ctx ended before it ran.
		select {
		case <-c.done:
			return c.result()
		case <-c.lead:
		}
		g.mu.Lock()
	}
	g.busy = true
	n := min(len(g.queue), maxGroup)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	func() {
		defer g.handOff() // even if commit panicked: nobody may wait forever
		g.commit(ctx, batch)
	}()
	return c.result()
}

// handOff ends a leader's turn: the first caller that queued meanwhile
// leads the next group.
func (g *group) handOff() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.busy = false
		g.queue = nil
		return
	}
	close(g.queue[0].lead)
}

func (c *groupCall) result() error {
	if c.pan != nil {
		panic(c.pan)
	}
	return c.err
}

// savepoint is the name every call's savepoint takes. ROLLBACK TO names the
// newest savepoint of that name, which is the current call's: the calls
// before it are done with theirs.
const savepoint = "group_call"

// commit runs the batch in one transaction and settles every call's outcome.
//
// The calls run without savepoints first. A savepoint costs: SQLite copies
// every page a call changes into a statement journal, in case the call is
// undone, and that was a tenth of payment's CPU in make bench. If a call
// fails, that transaction is rolled back, the call gets its error, and the
// others run again, each in a savepoint of its own, so that one more
// failure costs no third run. Calls fail rarely (a lost compare-and-set, a
// business rule); fn may run more than once (see Transaction).
func (g *group) commit(ctx context.Context, batch []*groupCall) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), groupTimeout)
	defer cancel()
	// Every call is settled even if something below panics (the panic then
	// goes on in the leader).
	err := errors.New("db: group transaction panicked")
	defer func() {
		for _, c := range batch {
			select {
			case <-c.done:
			default:
				if err == nil {
					c.finish(nil, nil)
				} else if c.ran {
					c.finish(err, nil)
				} else {
					c.finish(fmt.Errorf("db: group transaction failed before this call ran: %w", err), nil)
				}
			}
		}
	}()

	var (
		failed    *groupCall
		failedErr error
		failedPan any
	)
	err = g.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, c := range batch {
			if err := c.ctx.Err(); err != nil {
				c.finish(err, nil)
				continue
			}
			if failedErr, failedPan = runCall(tx, c); failedErr != nil || failedPan != nil {
				failed = c
				return errUndoCall
			}
			c.ran = true // it shares the COMMIT's fate
		}
		return nil
	})
	if failed == nil {
		return
	}
	// Settled only now that its writes are rolled back.
	failed.finish(failedErr, failedPan)
	rest := make([]*groupCall, 0, len(batch)-1)
	for _, c := range batch {
		c.ran = false
		select {
		case <-c.done:
		default:
			rest = append(rest, c)
		}
	}
	if len(rest) == 0 {
		err = nil
		return
	}
	err = g.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, c := range rest {
			if err := c.ctx.Err(); err != nil {
				c.finish(err, nil)
				continue
			}
			err, pan, broken := runInSavepoint(tx, c)
			if broken != nil {
				// The transaction cannot go on: this call and those that
				// already ran fail with it; those not run yet, too.
				c.finish(err, pan)
				return broken
			}
			if err != nil || pan != nil {
				c.finish(err, pan)
				continue
			}
			c.ran = true
		}
		return nil
	})
}

// errUndoCall rolls back a group's first transaction, in which a call failed.
var errUndoCall = errors.New("db: a call of the group failed")

// runCall runs one call's fn, and returns its error or what it panicked with.
func runCall(tx *gorm.DB, c *groupCall) (err error, pan any) {
	defer func() { pan = recover() }()
	return c.fn(tx.Session(&gorm.Session{NewDB: true, Context: context.WithoutCancel(c.ctx)})), nil
}

// runInSavepoint runs one call in a savepoint. err and pan are the call's
// own outcome; broken is set when undoing a failed call failed, so the
// transaction (and with it every call of the group) must be rolled back.
func runInSavepoint(tx *gorm.DB, c *groupCall) (err error, pan any, broken error) {
	if e := tx.Exec("SAVEPOINT " + savepoint).Error; e != nil {
		return e, nil, e
	}
	err, pan = runCall(tx, c)
	if err == nil && pan == nil {
		return nil, nil, nil
	}
	// SQLite may already have rolled the whole transaction back (an I/O
	// error, a full disk); then there is no savepoint to return to, and
	// the rollback to it fails.
	if e := tx.Exec("ROLLBACK TO " + savepoint).Error; e != nil {
		if err == nil {
			err = fmt.Errorf("db: group call panicked: %v", pan)
		}
		return err, pan, errors.Join(errors.New("db: group transaction broken"), e)
	}
	return err, pan, nil
}

func (c *groupCall) finish(err error, pan any) {
	c.err, c.pan = err, pan
	close(c.done)
}
