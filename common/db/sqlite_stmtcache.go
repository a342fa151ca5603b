package db

import (
	"container/list"
	"context"
	"database/sql/driver"
	"fmt"
)

// stmtCacheSize is how many prepared statements a connection keeps. Our
// services run a few dozen distinct statements; the bound only matters for
// queries built with a varying number of placeholders (IN lists).
const stmtCacheSize = 128

// stmtCache keeps a connection's statements prepared, least recently used
// first out.
//
// Why: SQLite compiles every statement into a program before it runs it.
// Run through the connection directly, a statement is compiled on every
// use; in make bench that was a tenth of payment's and warehouse's CPU.
// database/sql's own prepared statements (or gorm's PrepareStmt) would
// keep them per *sql.DB and take a second connection from the pool to
// prepare one inside a transaction, which SQLite's small pool of writers
// cannot spare; this cache lives in the connection and needs none.
//
// A statement is lent to one use at a time: rows still open from a query
// hold it, and the same query run meanwhile (a query inside the loop over
// its own rows) gets a statement of its own, finalized after use.
type stmtCache struct {
	max     int
	lru     *list.List // of *cachedStmt, most recently used at the front
	byQuery map[string]*list.Element
}

type cachedStmt struct {
	query string
	stmt  preparedStmt
	lent  bool
	kept  bool // in the cache; else prepared for one use
}

// giveBack ends a use of the statement: a kept one can be lent again, a
// one-off one is finalized.
func (cs *cachedStmt) giveBack() {
	if cs.kept {
		cs.lent = false
		return
	}
	_ = cs.stmt.Close()
}

// preparedStmt is what modernc.org/sqlite's statements implement.
type preparedStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

func newStmtCache(max int) *stmtCache {
	return &stmtCache{max: max, lru: list.New(), byQuery: make(map[string]*list.Element)}
}

// get lends query's statement, prepared on conn if it is not kept yet; the
// caller gives it back (giveBack) after use.
func (c *stmtCache) get(ctx context.Context, conn driver.ConnPrepareContext, query string) (*cachedStmt, error) {
	if e, ok := c.byQuery[query]; ok {
		cs := e.Value.(*cachedStmt)
		if !cs.lent {
			c.lru.MoveToFront(e)
			cs.lent = true
			return cs, nil
		}
		// In use: a statement of its own, below.
	}
	s, err := prepare(ctx, conn, query)
	if err != nil {
		return nil, err
	}
	cs := &cachedStmt{query: query, stmt: s, lent: true}
	if _, kept := c.byQuery[query]; !kept && c.makeRoom() {
		cs.kept = true
		c.byQuery[query] = c.lru.PushFront(cs)
	}
	return cs, nil
}

func prepare(ctx context.Context, conn driver.ConnPrepareContext, query string) (preparedStmt, error) {
	s, err := conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	ps, ok := s.(preparedStmt)
	if !ok {
		_ = s.Close()
		return nil, fmt.Errorf("db: sqlite driver statement %T lacks context-aware methods", s)
	}
	return ps, nil
}

// makeRoom evicts the least recently used statement not in use if the
// cache is full, and reports whether there is room for one more.
func (c *stmtCache) makeRoom() bool {
	if c.lru.Len() < c.max {
		return true
	}
	for e := c.lru.Back(); e != nil; e = e.Prev() {
		cs := e.Value.(*cachedStmt)
		if cs.lent {
			continue
		}
		c.lru.Remove(e)
		delete(c.byQuery, cs.query)
		_ = cs.stmt.Close()
		return true
	}
	return false
}

// close finalizes every statement kept; the connection is closing, so
// none is in use.
func (c *stmtCache) close() {
	for e := c.lru.Front(); e != nil; e = e.Next() {
		_ = e.Value.(*cachedStmt).stmt.Close()
	}
	c.lru.Init()
	clear(c.byQuery)
}

// sqliteRows is what of modernc.org/sqlite's rows the wrapper forwards:
// database/sql reads column types through these optional interfaces.
//
// Not RowsColumnTypeLength: the driver answers it from the first row's
// value (any TEXT: unbounded), while gorm's migrator compares it with the
// model's size tag. Every AutoMigrate of a table with rows and a sized
// string or a time then rebuilt the table (copying every row) on every
// start: 0.5 s for payment's after make bench. SQLite keeps no declared
// length anyway; without the method the length is unknown, which is what
// gorm saw through glebarez/go-sqlite on the same database.
type sqliteRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// stmtRows gives its statement back when closed.
type stmtRows struct {
	sqliteRows
	stmt *cachedStmt // nil once given back
}

func releasingRows(rows driver.Rows, cs *cachedStmt) (driver.Rows, error) {
	r, ok := rows.(sqliteRows)
	if !ok {
		_ = rows.Close()
		cs.giveBack()
		return nil, fmt.Errorf("db: sqlite driver rows %T lack column type methods", rows)
	}
	return &stmtRows{sqliteRows: r, stmt: cs}, nil
}

func (r *stmtRows) Close() error {
	err := r.sqliteRows.Close()
	if r.stmt != nil {
		r.stmt.giveBack()
		r.stmt = nil
	}
	return err
}
