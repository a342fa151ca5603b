package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

func TestSQLiteDSN(t *testing.T) {
	for _, tc := range []struct {
		in, want, path string
	}{
		{"data/x.db", "data/x.db?_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)&_txlock=immediate&_time_format=sqlite&_timezone=UTC", "data/x.db"},
		// User settings win and extra parameters are kept.
		{"/x.db?_pragma=synchronous(FULL)&_txlock=exclusive", "/x.db?_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)&_time_format=sqlite&_timezone=UTC&_pragma=synchronous(FULL)&_txlock=exclusive", "/x.db"},
		{"/x.db?_pragma=Busy_Timeout=50", "/x.db?_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)&_txlock=immediate&_time_format=sqlite&_timezone=UTC&_pragma=Busy_Timeout=50", "/x.db"},
		{"file:rel/x.db?cache=private", "file:rel/x.db?_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)&_txlock=immediate&_time_format=sqlite&_timezone=UTC&cache=private", "rel/x.db"},
	} {
		got, path, err := sqliteDSN(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
		assert.Equal(t, tc.path, path, tc.in)
	}
	for _, bad := range []string{"", "?x=1", ":memory:", "file::memory:", "file:x?mode=memory", "x.db?%zz"} {
		_, _, err := sqliteDSN(bad)
		assert.Error(t, err, bad)
	}
}

func openSQLiteForTest(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	gdb, err := Open(context.Background(), Config{Driver: DriverSQLite, DSN: dsn})
	require.NoError(t, err)
	sqlDB, err := gdb.DB()
	require.NoError(t, err)
	t.Cleanup(func() { _ = sqlDB.Close() })
	return sqlDB
}

// TestSQLiteCreatesDirsAndSetsPragmas: every pooled connection (pragmas are
// per connection) has the settings Open promises.
func TestSQLiteCreatesDirsAndSetsPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "svc.db")
	sqlDB := openSQLiteForTest(t, path)
	_, err := os.Stat(path)
	require.NoError(t, err, "database file created in new directories")

	ctx := context.Background()
	// Hold DefaultSQLiteMaxOpenConns connections at once so each is a distinct one.
	var conns []*sql.Conn
	for range DefaultSQLiteMaxOpenConns {
		c, err := sqlDB.Conn(ctx)
		require.NoError(t, err)
		conns = append(conns, c)
	}
	assert.Equal(t, DefaultSQLiteMaxOpenConns, sqlDB.Stats().OpenConnections)
	for i, c := range conns {
		for pragma, want := range map[string]string{
			"journal_mode": "wal",
			"synchronous":  "1", // NORMAL
			"busy_timeout": "10000",
			"foreign_keys": "1",
		} {
			var got string
			require.NoError(t, c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got))
			assert.Equal(t, want, got, "conn %d: PRAGMA %s", i, pragma)
		}
		require.NoError(t, c.Close())
	}
	assert.Equal(t, DefaultSQLiteMaxOpenConns, sqlDB.Stats().MaxOpenConnections)
}

// isBusy: the SQLite error for "database is locked".
func isBusy(err error) bool {
	var e *msqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// TestSQLiteTxLockImmediate proves that the driver honours _txlock=immediate,
// i.e. that a read-write transaction holds the write lock from BEGIN on, and
// that read-only transactions do not. A control run with _txlock=deferred
// shows the difference comes from the parameter.
func TestSQLiteTxLockImmediate(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		query      string
		opts       *sql.TxOptions
		wantLocked bool
	}{
		{"default read-write", "", nil, true},
		{"read-only", "", &sql.TxOptions{ReadOnly: true}, false},
		{"control: _txlock=deferred", "?_txlock=deferred", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sqlDB := openSQLiteForTest(t, filepath.Join(t.TempDir(), "x.db")+tc.query)
			other, err := sqlDB.Conn(ctx)
			require.NoError(t, err)
			defer other.Close()
			// Fail at once instead of waiting busy_timeout.
			_, err = other.ExecContext(ctx, "PRAGMA busy_timeout = 0")
			require.NoError(t, err)

			tx, err := sqlDB.BeginTx(ctx, tc.opts) // nothing executed in it yet
			require.NoError(t, err)

			_, err = other.ExecContext(ctx, "BEGIN IMMEDIATE")
			if tc.wantLocked {
				require.Error(t, err, "BEGIN must have taken the write lock")
				assert.True(t, isBusy(err), "want SQLITE_BUSY, got %v", err)
				assert.True(t, IsTransient(err), "SQLITE_BUSY is transient")
			} else {
				require.NoError(t, err)
				_, err = other.ExecContext(ctx, "ROLLBACK")
				require.NoError(t, err)
			}
			require.NoError(t, tx.Rollback())
		})
	}
}

// TestSQLiteDeferredWouldFail documents why _txlock=immediate is needed: with
// DEFERRED transactions, two concurrent read-then-write transactions fail with
// SQLITE_BUSY even though busy_timeout is set.
func TestSQLiteDeferredWouldFail(t *testing.T) {
	ctx := context.Background()
	sqlDB := openSQLiteForTest(t, filepath.Join(t.TempDir(), "x.db")+"?_txlock=deferred")
	_, err := sqlDB.ExecContext(ctx, "CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER); INSERT INTO c VALUES (1, 0)")
	require.NoError(t, err)

	tx1, err := sqlDB.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx1.Rollback()
	tx2, err := sqlDB.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx2.Rollback()

	var n int
	require.NoError(t, tx1.QueryRowContext(ctx, "SELECT n FROM c WHERE id = 1").Scan(&n))
	require.NoError(t, tx2.QueryRowContext(ctx, "SELECT n FROM c WHERE id = 1").Scan(&n))
	_, err = tx1.ExecContext(ctx, "UPDATE c SET n = ? WHERE id = 1", n+1)
	require.NoError(t, err)
	start := time.Now()
	_, err = tx2.ExecContext(ctx, "UPDATE c SET n = ? WHERE id = 1", n+1)
	require.Error(t, err)
	assert.True(t, isBusy(err), "got %v", err)
	assert.Less(t, time.Since(start), 5*time.Second, "fails without waiting for busy_timeout")
}

// TestSQLiteTimesStoredInUTC: whatever the zone of a time argument, SQLite gets
// UTC text, so SQL comparisons between times from different zones are right.
func TestSQLiteTimesStoredInUTC(t *testing.T) {
	ctx := context.Background()
	sqlDB := openSQLiteForTest(t, filepath.Join(t.TempDir(), "x.db"))
	_, err := sqlDB.ExecContext(ctx, "CREATE TABLE e (id INTEGER PRIMARY KEY, at DATETIME)")
	require.NoError(t, err)

	east := time.FixedZone("east", 10*3600)
	early := time.Date(2024, 1, 1, 9, 0, 0, 0, east) // 2023-12-31 23:00 UTC
	late := time.Date(2024, 1, 1, 0, 30, 0, 0, time.UTC)
	_, err = sqlDB.ExecContext(ctx, "INSERT INTO e (id, at) VALUES (1, ?), (2, ?)", early, &late)
	require.NoError(t, err)
	// Through a prepared statement and a driver.Valuer too.
	stmt, err := sqlDB.PrepareContext(ctx, "INSERT INTO e (id, at) VALUES (?, ?)")
	require.NoError(t, err)
	_, err = stmt.ExecContext(ctx, 3, sql.NullTime{Time: early, Valid: true})
	require.NoError(t, err)
	require.NoError(t, stmt.Close())

	var text string
	require.NoError(t, sqlDB.QueryRowContext(ctx, "SELECT CAST(at AS TEXT) FROM e WHERE id = 1").Scan(&text))
	assert.True(t, strings.HasPrefix(text, "2023-12-31 23:00:00"), text)
	assert.True(t, strings.HasSuffix(text, "+00:00"), text)

	var ids []int
	rows, err := sqlDB.QueryContext(ctx, "SELECT id FROM e WHERE at < ? ORDER BY at, id", late)
	require.NoError(t, err)
	for rows.Next() {
		var id int
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []int{1, 3}, ids)

	var got time.Time
	require.NoError(t, sqlDB.QueryRowContext(ctx, "SELECT at FROM e WHERE id = 1").Scan(&got))
	assert.True(t, got.Equal(early))
	assert.Equal(t, time.UTC, got.Location())
}

type orFailRow struct {
	ID int64
	U  int64 `gorm:"not null;uniqueIndex"`
}

// TestSQLiteWritesInTransactionsOrFail: an UPDATE or INSERT inside a transaction runs
// with OR FAIL, which needs no statement journal (orFail); one
// on its own keeps SQLite's default. A failing multi-row UPDATE changes rows
// before it fails; db.Transaction undoes them with the rest of the call.
func TestSQLiteWritesInTransactionsOrFail(t *testing.T) {
	ctx := context.Background()
	gdb, err := Open(ctx, Config{Driver: DriverSQLite, DSN: filepath.Join(t.TempDir(), "x.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = Close(gdb) })
	require.NoError(t, gdb.AutoMigrate(&orFailRow{}))
	require.NoError(t, gdb.Create([]orFailRow{{ID: 1, U: 1}, {ID: 2, U: 2}, {ID: 3, U: 5}}).Error)

	var last string // the SQL of the last UPDATE
	require.NoError(t, gdb.Callback().Update().After("gorm:update").Register("test:sql", func(tx *gorm.DB) {
		last = tx.Statement.SQL.String()
	}))
	require.NoError(t, Transaction(ctx, gdb, func(tx *gorm.DB) error {
		return tx.Model(&orFailRow{}).Where("id = 1").Update("u", 1).Error
	}))
	assert.True(t, strings.HasPrefix(last, "UPDATE OR FAIL `or_fail_rows`"), last)
	// gorm wraps a lone write in a transaction of its own, too ...
	require.NoError(t, gdb.Model(&orFailRow{}).Where("id = 1").Update("u", 1).Error)
	assert.True(t, strings.HasPrefix(last, "UPDATE OR FAIL `or_fail_rows`"), last)
	// ... unless told not to: then it is a statement on its own.
	require.NoError(t, gdb.Session(&gorm.Session{SkipDefaultTransaction: true}).Model(&orFailRow{}).Where("id = 1").Update("u", 1).Error)
	assert.True(t, strings.HasPrefix(last, "UPDATE `or_fail_rows`"), last)

	// INSERT too, in gorm's own transaction; a statement's own conflict
	// resolution stays, and so does an upsert clause.
	require.NoError(t, gdb.Callback().Create().After("gorm:create").Register("test:sql", func(tx *gorm.DB) {
		last = tx.Statement.SQL.String()
	}))
	require.NoError(t, gdb.Create(&orFailRow{ID: 4, U: 40}).Error)
	assert.True(t, strings.HasPrefix(last, "INSERT OR FAIL INTO `or_fail_rows`"), last)
	require.NoError(t, gdb.Clauses(clause.Insert{Modifier: "OR IGNORE"}).Create(&orFailRow{ID: 4, U: 40}).Error)
	assert.True(t, strings.HasPrefix(last, "INSERT OR IGNORE INTO"), last)
	require.NoError(t, gdb.Clauses(clause.OnConflict{DoNothing: true}).Create(&orFailRow{ID: 4, U: 40}).Error)
	assert.True(t, strings.HasPrefix(last, "INSERT OR FAIL INTO") && strings.Contains(last, "ON CONFLICT DO NOTHING"), last)
	require.NoError(t, gdb.Where("id = 4").Delete(&orFailRow{}).Error)

	// u+3 in id order: row 1 becomes 4, then row 2's 5 collides with row 3.
	err = Transaction(ctx, gdb, func(tx *gorm.DB) error {
		return tx.Model(&orFailRow{}).Where("id > 0").Update("u", gorm.Expr("u + 3")).Error
	})
	require.True(t, IsUniqueViolation(err), "got %v", err)
	var us []int64
	require.NoError(t, gdb.Model(&orFailRow{}).Order("id").Pluck("u", &us).Error)
	assert.Equal(t, []int64{1, 2, 5}, us, "the rows changed before the failure are undone")
}

// TestStatementsStayPrepared: a connection keeps the statements it ran,
// up to its bound, and a query run again while its own rows are still open
// (the inner query of a loop over them) gets a statement of its own.
func TestStatementsStayPrepared(t *testing.T) {
	ctx := context.Background()
	sqlDB := openSQLiteForTest(t, filepath.Join(t.TempDir(), "x.db"))
	conn, err := sqlDB.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	cache := func() (c *stmtCache) {
		require.NoError(t, conn.Raw(func(dc any) error { c = dc.(*liteConn).stmts; return nil }))
		return c
	}

	before := cache().lru.Len() // what Open ran on this connection
	_, err = conn.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, next INTEGER)")
	require.NoError(t, err)
	for i := 1; i <= 3; i++ {
		_, err = conn.ExecContext(ctx, "INSERT INTO t (id, next) VALUES (?, ?)", i, i%3+1)
		require.NoError(t, err)
	}
	assert.Equal(t, before+2, cache().lru.Len(), "CREATE and INSERT kept")

	const q = "SELECT id, next FROM t WHERE id >= ? ORDER BY id"
	rows, err := conn.QueryContext(ctx, q, 1)
	require.NoError(t, err)
	var pairs []string
	for rows.Next() {
		var id, next int
		require.NoError(t, rows.Scan(&id, &next))
		// The same query while its rows are open: its own statement.
		var inner int
		require.NoError(t, conn.QueryRowContext(ctx, q, next).Scan(&inner, new(int)))
		pairs = append(pairs, fmt.Sprintf("%d>%d", id, inner))
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	assert.Equal(t, []string{"1>2", "2>3", "3>1"}, pairs)
	assert.Equal(t, before+3, cache().lru.Len(), "the query kept once")

	// Lent again after the rows closed, with new arguments.
	var n int
	require.NoError(t, conn.QueryRowContext(ctx, q, 3).Scan(&n, new(int)))
	assert.Equal(t, 3, n)

	// A full cache drops its least recently used statement.
	require.NoError(t, conn.Raw(func(dc any) error {
		lc := dc.(*liteConn)
		lc.stmts.close()
		lc.stmts = newStmtCache(2)
		return nil
	}))
	for _, id := range []int{1, 2, 3} {
		q := fmt.Sprintf("SELECT next FROM t WHERE id = %d", id)
		require.NoError(t, conn.QueryRowContext(ctx, q).Scan(&n))
		assert.Equal(t, id%3+1, n, q)
	}
	c := cache()
	assert.Equal(t, 2, c.lru.Len())
	assert.NotContains(t, c.byQuery, "SELECT next FROM t WHERE id = 1")
	assert.Contains(t, c.byQuery, "SELECT next FROM t WHERE id = 3")
}

// TestAutoMigrateKeepsTablesWithRows: migrating a table that has rows and
// an unchanged model leaves the table alone. gorm's migrator rebuilds a
// table (copying every row) when it believes a column changed; a driver
// answer it misread made it do so on every start.
func TestAutoMigrateKeepsTablesWithRows(t *testing.T) {
	type item struct {
		ID   int64
		Name string    `gorm:"size:64;not null;uniqueIndex"`
		At   time.Time `gorm:"not null"`
		N    int64     `gorm:"not null;default:0"`
	}
	ctx := context.Background()
	gdb, err := Open(ctx, Config{Driver: DriverSQLite, DSN: filepath.Join(t.TempDir(), "x.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = Close(gdb) })
	require.NoError(t, gdb.AutoMigrate(&item{}))
	require.NoError(t, gdb.Create(&item{Name: "a", At: time.Now()}).Error)

	var sqlBefore string
	var rootBefore int64
	require.NoError(t, gdb.Raw("SELECT sql, rootpage FROM sqlite_master WHERE name = 'items'").Row().Scan(&sqlBefore, &rootBefore))
	var ddl []string
	require.NoError(t, gdb.Callback().Raw().Before("gorm:raw").Register("test:ddl", func(tx *gorm.DB) {
		if sql := tx.Statement.SQL.String(); !strings.HasPrefix(sql, "SELECT") && !strings.HasPrefix(sql, "PRAGMA") {
			ddl = append(ddl, sql)
		}
	}))
	require.NoError(t, gdb.AutoMigrate(&item{}))
	assert.Empty(t, ddl, "statements of the second AutoMigrate")

	var sqlAfter string
	var rootAfter int64
	require.NoError(t, gdb.Raw("SELECT sql, rootpage FROM sqlite_master WHERE name = 'items'").Row().Scan(&sqlAfter, &rootAfter))
	assert.Equal(t, sqlBefore, sqlAfter)
	assert.Equal(t, rootBefore, rootAfter, "the table was rebuilt")
}
