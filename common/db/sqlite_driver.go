package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"time"

	// Registers the pure-Go "sqlite" driver that utcDriver wraps.
	_ "github.com/glebarez/go-sqlite"
)

// sqliteDriverName is the database/sql name of utcDriver.
const sqliteDriverName = "sqlite-utc"

func init() {
	// Get the driver registered as "sqlite" without opening anything.
	base, err := sql.Open("sqlite", "")
	if err != nil {
		panic(err)
	}
	sql.Register(sqliteDriverName, utcDriver{base.Driver()})
	_ = base.Close()
}

// utcDriver wraps go-sqlite so that every time.Time argument is stored in UTC.
//
// Why: SQLite has no date type; go-sqlite writes times as text in the
// argument's own zone ("...+02:00") and reads them back with that fixed offset.
// Times in different zones then compare wrongly in SQL (text order) and come
// back in zones other than UTC, whereas MySQL (loc=UTC) converts everything to
// UTC. Normalising here makes both drivers store and return the same thing.
type utcDriver struct{ base driver.Driver }

func (d utcDriver) Open(name string) (driver.Conn, error) {
	c, err := d.base.Open(name)
	if err != nil {
		return nil, err
	}
	if _, ok := c.(sqliteConn); !ok { // so the forwarders below cannot panic
		_ = c.Close()
		return nil, fmt.Errorf("db: sqlite driver conn %T lacks context-aware methods", c)
	}
	return utcConn{Conn: c, gate: gateFor(name)}, nil
}

// The interfaces go-sqlite's conn implements; utcConn forwards all of them
// (embedding driver.Conn alone would hide the context-aware ones, and
// database/sql would fall back to slower or context-less paths).
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
}

type utcConn struct {
	driver.Conn
	gate writeGate // nil: no gate (see gateFor)
}

var _ sqliteConn = utcConn{}
var _ driver.NamedValueChecker = utcConn{}

// CheckNamedValue does database/sql's default conversion (driver.Valuer,
// pointers, ...) and then moves a time.Time to UTC. It also covers prepared
// statements, whose arguments database/sql checks with the conn's checker.
func (c utcConn) CheckNamedValue(nv *driver.NamedValue) error {
	v, err := driver.DefaultParameterConverter.ConvertValue(nv.Value)
	if err != nil {
		return err
	}
	if t, ok := v.(time.Time); ok {
		v = t.UTC()
	}
	nv.Value = v
	return nil
}

func (c utcConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.gate == nil || opts.ReadOnly {
		return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	}
	if err := c.gate.enter(ctx); err != nil {
		return nil, err
	}
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		c.gate.leave()
		return nil, err
	}
	return gatedTx{Tx: tx, gate: c.gate, once: new(sync.Once)}, nil
}

func (c utcConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c utcConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c utcConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c utcConn) Ping(ctx context.Context) error {
	return c.Conn.(driver.Pinger).Ping(ctx)
}
