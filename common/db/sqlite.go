package db

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SQLiteBusyTimeoutMillis is how long a connection waits for another
// connection's write lock before failing with SQLITE_BUSY.
const SQLiteBusyTimeoutMillis = 10000

// sqlitePragmas run on every new connection (they are per-connection state),
// in this order: busy_timeout first so that the others wait on locks too.
// journal_mode is not here: WAL is persistent in the file and is set once by Open.
var sqlitePragmas = []struct{ name, value string }{
	{"busy_timeout", fmt.Sprint(SQLiteBusyTimeoutMillis)},
	// NORMAL is durable against application crashes in WAL mode; only an OS
	// crash/power loss may lose the last transactions. FULL fsyncs every commit.
	{"synchronous", "NORMAL"},
	// SQLite ignores FOREIGN KEY clauses unless told otherwise; MySQL enforces
	// them, and both drivers must behave alike.
	{"foreign_keys", "ON"},
	// A savepoint keeps the original of every page it changes in a
	// statement journal, by default a new temporary file each time: an
	// open, an unlink and a close per transaction of every group
	// (group.go). In memory it costs nothing of the kind; it lives only
	// until the transaction ends.
	{"temp_store", "MEMORY"},
}

// sqliteDSN turns a configured path (optionally with ?query) into the
// modernc.org/sqlite DSN, returning also the file path for directory creation.
// Pragmas, _txlock, _time_format or _timezone given by the user in the query win over ours.
func sqliteDSN(dsn string) (full, path string, err error) {
	path, rawQuery, _ := strings.Cut(dsn, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", "", fmt.Errorf("db: sqlite dsn query: %w", err)
	}
	filePath := strings.TrimPrefix(path, "file:")
	if filePath == "" || filePath == ":memory:" || query.Get("mode") == "memory" {
		// Each pooled connection would get its own private, empty database.
		return "", "", fmt.Errorf("db: sqlite dsn %q: need a file path (in-memory databases are per connection; use a file in a temp dir)", dsn)
	}

	userPragmas := map[string]bool{}
	for _, p := range query["_pragma"] {
		// "name(value)" or "name=value"
		name, _, _ := strings.Cut(strings.ReplaceAll(p, "(", "="), "=")
		userPragmas[strings.ToLower(strings.TrimSpace(name))] = true
	}
	var params []string
	for _, p := range sqlitePragmas {
		if !userPragmas[p.name] {
			params = append(params, "_pragma="+p.name+"("+p.value+")")
		}
	}
	// BEGIN IMMEDIATE for every read-write transaction: the write lock is taken
	// at BEGIN, where SQLite honours busy_timeout. With the default DEFERRED, a
	// transaction that reads and then writes must upgrade its lock mid-way; if
	// another connection wrote meanwhile, SQLite fails at once with SQLITE_BUSY
	// (busy_timeout cannot help: waiting would not make the snapshot current).
	// Read-only transactions (sql.TxOptions{ReadOnly: true}) keep plain BEGIN.
	if !query.Has("_txlock") {
		params = append(params, "_txlock=immediate")
	}
	// Times are stored as text in UTC, "2006-01-02 15:04:05.999999999+00:00"
	// (a form SQLite's date functions read; the driver's default, Go's
	// time.Time.String form, is not), and read back in UTC. Why UTC: SQLite
	// has no date type, and times stored in different zones compare wrongly
	// in SQL (as text) and come back in zones other than UTC, whereas MySQL
	// (loc=UTC) converts everything to UTC. Both drivers then store and
	// return the same thing.
	if !query.Has("_time_format") {
		params = append(params, "_time_format=sqlite")
	}
	if !query.Has("_timezone") {
		params = append(params, "_timezone=UTC")
	}
	if rawQuery != "" {
		params = append(params, rawQuery)
	}
	return path + "?" + strings.Join(params, "&"), filePath, nil
}

// orFail makes an INSERT or UPDATE in a transaction an INSERT OR FAIL or
// UPDATE OR FAIL, unless the statement names its own conflict resolution.
//
// Why: a statement that could fail half-way gets a statement journal inside
// a transaction. That is any UPDATE of a NOT NULL column, and any INSERT ...
// RETURNING (how gorm creates a row), under SQLite's default ABORT. SQLite
// copies the original of every page the statement changes into it, so that
// a failure undoes that statement alone. In make bench those copies were
// about a tenth of payment's CPU. We never need that: no transaction of ours
// goes on after a failed statement; fn returns the error, and db.Transaction
// undoes the whole call. Under OR FAIL a failing statement keeps the rows it
// changed before the failure, which that undo discards with the rest, and
// it needs no statement journal.
//
// gorm runs a lone Create or Update in a transaction of its own, rolled back
// on error, so those count as in a transaction. A statement on its own needs
// no statement journal, and there the kept rows would be committed: it stays
// as it is.
func orFail(c clause.Interface) func(tx *gorm.DB) {
	return func(tx *gorm.DB) {
		if _, inTx := tx.Statement.ConnPool.(gorm.TxCommitter); !inTx {
			return
		}
		if own, ok := tx.Statement.Clauses[c.Name()]; ok {
			switch e := own.Expression.(type) {
			case clause.Insert:
				if e.Modifier != "" {
					return
				}
			case clause.Update:
				if e.Modifier != "" {
					return
				}
			}
		}
		tx.Statement.AddClause(c)
	}
}

func openSQLite(ctx context.Context, cfg Config) (*gorm.DB, error) {
	full, path, err := sqliteDSN(cfg.DSN)
	if err != nil {
		return nil, err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("db: sqlite: create directory: %w", err)
		}
	}
	// Idle connections are kept (max idle = max open, no lifetime): a new one
	// costs a file open, the pragmas and a schema parse, and there is no
	// server that could drop it.
	gdb, err := gorm.Open(sqlite.Dialector{DriverName: sqliteDriverName, DSN: full}, gormConfig())
	if err != nil {
		return nil, fmt.Errorf("db: sqlite: open %s: %w", path, err)
	}
	err = errors.Join(
		gdb.Callback().Create().Before("gorm:create").Register("bookstore:or_fail", orFail(clause.Insert{Modifier: "OR FAIL"})),
		gdb.Callback().Update().Before("gorm:update").Register("bookstore:or_fail", orFail(clause.Update{Modifier: "OR FAIL"})),
	)
	if err != nil {
		_ = Close(gdb)
		return nil, fmt.Errorf("db: sqlite: %w", err)
	}
	if err := applyPool(gdb, cfg, DefaultSQLiteMaxOpenConns, -1, 0); err != nil {
		_ = Close(gdb)
		return nil, fmt.Errorf("db: sqlite: %w", err)
	}
	// WAL: readers do not block the writer nor each other. The mode is stored
	// in the database file, so setting it once here covers all connections.
	var mode string
	if err := gdb.WithContext(ctx).Raw("PRAGMA journal_mode=WAL").Scan(&mode).Error; err != nil {
		_ = Close(gdb)
		return nil, fmt.Errorf("db: sqlite: set WAL: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		_ = Close(gdb)
		return nil, fmt.Errorf("db: sqlite: journal_mode is %q, want wal", mode)
	}
	return gdb, nil
}
