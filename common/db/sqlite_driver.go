package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"

	// Registers the pure-Go "sqlite" driver that sqliteDriver wraps.
	_ "modernc.org/sqlite"
)

// sqliteDriverName is the database/sql name of sqliteDriver.
const sqliteDriverName = "sqlite-bookstore"

func init() {
	// Get the driver registered as "sqlite" without opening anything.
	base, err := sql.Open("sqlite", "")
	if err != nil {
		panic(err)
	}
	sql.Register(sqliteDriverName, sqliteDriver{base.Driver()})
	_ = base.Close()
}

// sqliteDriver wraps modernc.org/sqlite's driver. Its connections:
//   - store and read times in UTC (the DSN sqliteDSN builds);
//   - let one read-write transaction of the process at a time into a
//     database file (writeGate, sqlite_gate.go);
//   - keep the statements they run prepared (stmtCache).
type sqliteDriver struct{ base driver.Driver }

func (d sqliteDriver) Open(name string) (driver.Conn, error) {
	c, err := d.base.Open(name)
	if err != nil {
		return nil, err
	}
	sc, ok := c.(sqliteConn)
	if !ok { // so that no call below can fall back to a slower path
		_ = c.Close()
		return nil, fmt.Errorf("db: sqlite driver conn %T lacks context-aware methods", c)
	}
	return &liteConn{sqliteConn: sc, gate: gateFor(name), stmts: newStmtCache(stmtCacheSize)}, nil
}

// sqliteConn is what modernc.org/sqlite's conn implements and liteConn
// forwards (embedding driver.Conn alone would hide the context-aware
// methods, and database/sql would fall back to slower or context-less
// paths).
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter // refuses a connection an interrupted statement left unusable
	driver.Validator
}

// liteConn is one connection; database/sql uses it from one goroutine at
// a time, so its statement cache needs no lock.
type liteConn struct {
	sqliteConn
	gate  writeGate // nil: no gate (see gateFor)
	stmts *stmtCache
}

var _ sqliteConn = (*liteConn)(nil)

func (c *liteConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.gate == nil || opts.ReadOnly {
		return c.sqliteConn.BeginTx(ctx, opts)
	}
	if err := c.gate.enter(ctx); err != nil {
		return nil, err
	}
	tx, err := c.sqliteConn.BeginTx(ctx, opts)
	if err != nil {
		c.gate.leave()
		return nil, err
	}
	return gatedTx{Tx: tx, gate: c.gate, once: new(sync.Once)}, nil
}

// ExecContext runs query as a prepared statement kept for the next time.
func (c *liteConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.stmts.get(ctx, c.sqliteConn, query)
	if err != nil {
		return nil, err
	}
	defer cs.giveBack()
	return cs.stmt.ExecContext(ctx, args)
}

// QueryContext runs query as a prepared statement kept for the next time;
// the statement is not lent out again until the rows are closed.
func (c *liteConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.stmts.get(ctx, c.sqliteConn, query)
	if err != nil {
		return nil, err
	}
	rows, err := cs.stmt.QueryContext(ctx, args)
	if err != nil {
		cs.giveBack()
		return nil, err
	}
	return releasingRows(rows, cs)
}

// Close finalizes the kept statements before the connection: SQLite
// refuses to close a connection that still has statements.
func (c *liteConn) Close() error {
	c.stmts.close()
	return c.sqliteConn.Close()
}
