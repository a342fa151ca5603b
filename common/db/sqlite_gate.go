package db

import (
	"context"
	"database/sql/driver"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"
)

// writeGate lets one read-write transaction at a time into a database file
// from this process; the others wait here, in Go, and start the moment the
// one before them ends. Without it they would all issue BEGIN IMMEDIATE and
// the losers would sleep in SQLite's busy handler (1, 2, 5, 10 ... 100 ms
// between tries), which under a burst of writes costs far more latency
// than the transactions themselves. The wait is bounded like busy_timeout,
// so a transaction that never ends fails the others as SQLite would.
type writeGate chan struct{}

var gates sync.Map // database file path -> writeGate

// gateTimeout bounds the wait at the gate, as busy_timeout bounds SQLite's.
var gateTimeout = SQLiteBusyTimeoutMillis * time.Millisecond

// gateFor returns the gate of the file a DSN names, or nil when the DSN's
// transactions do not take the write lock at BEGIN (_txlock other than
// immediate): then SQLite's own locking decides, as those callers expect.
func gateFor(dsn string) writeGate {
	path, rawQuery, _ := strings.Cut(dsn, "?")
	if q, err := url.ParseQuery(rawQuery); err != nil || q.Get("_txlock") != "immediate" {
		return nil
	}
	g, _ := gates.LoadOrStore(strings.TrimPrefix(path, "file:"), make(writeGate, 1))
	return g.(writeGate)
}

func (g writeGate) enter(ctx context.Context) error {
	select {
	case g <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(gateTimeout)
	defer t.Stop()
	select {
	case g <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("db: sqlite: database is locked: another transaction of this process held it for %s", gateTimeout)
	}
}

func (g writeGate) leave() { <-g }

// gatedTx leaves the gate when the transaction ends, once.
type gatedTx struct {
	driver.Tx
	gate writeGate
	once *sync.Once
}

func (t gatedTx) Commit() error {
	defer t.once.Do(t.gate.leave)
	return t.Tx.Commit()
}

func (t gatedTx) Rollback() error {
	defer t.once.Do(t.gate.leave)
	return t.Tx.Rollback()
}
