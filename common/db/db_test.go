package db_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"example.com/bookstore/common/db"
	"example.com/bookstore/common/db/dbtest"
)

// These tests run against whatever dbtest picks: SQLite by default, MySQL when
// BOOKSTORE_TEST_MYSQL_DSN is set.

type counter struct {
	ID uint
	N  int
}

type reservation struct {
	ID        uint
	CounterID uint
}

// TestConcurrentReadModifyWrite is the pattern services use for balances and
// stock: read a row in a transaction, write a value computed from it. 50
// concurrent writers (plus readers) must all succeed, with no lost update.
//
// The row is read with SELECT ... FOR UPDATE (clause.Locking), which MySQL
// needs to serialise the writers and which the SQLite dialect drops: there
// BEGIN IMMEDIATE already serialises write transactions.
func TestConcurrentReadModifyWrite(t *testing.T) {
	gdb := dbtest.Open(t)
	require.NoError(t, gdb.AutoMigrate(&counter{}))
	require.NoError(t, gdb.Create(&counter{ID: 1, N: 0}).Error)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	const writers, readers = 50, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers+readers)
	for range writers {
		wg.Go(func() {
			errs <- gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				var c counter
				if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).First(&c, 1).Error; err != nil {
					return fmt.Errorf("read: %w", err)
				}
				time.Sleep(time.Millisecond) // widen the race window
				if err := tx.Model(&c).Update("n", c.N+1).Error; err != nil {
					return fmt.Errorf("write: %w", err)
				}
				return nil
			})
		})
	}
	// Readers outside any transaction must not fail (or block writers) meanwhile.
	for range readers {
		wg.Go(func() {
			var c counter
			errs <- gdb.WithContext(ctx).First(&c, 1).Error
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}

	var c counter
	require.NoError(t, gdb.First(&c, 1).Error)
	assert.Equal(t, writers, c.N, "lost updates")
}

// TestConcurrentConditionalDecrement is stock reservation: UPDATE ... SET n =
// n - 1 WHERE n >= 1, and record a reservation only if a row was updated. With
// 30 in stock and 50 buyers, exactly 30 succeed and stock ends at 0, never below.
func TestConcurrentConditionalDecrement(t *testing.T) {
	gdb := dbtest.Open(t)
	require.NoError(t, gdb.AutoMigrate(&counter{}, &reservation{}))
	const stock, buyers = 30, 50
	require.NoError(t, gdb.Create(&counter{ID: 1, N: stock}).Error)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	var reserved atomic.Int64
	errs := make(chan error, buyers)
	for range buyers {
		wg.Go(func() {
			errs <- gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				res := tx.Model(&counter{}).Where("id = ? AND n >= ?", 1, 1).Update("n", gorm.Expr("n - ?", 1))
				if res.Error != nil {
					return fmt.Errorf("decrement: %w", res.Error)
				}
				if res.RowsAffected == 0 {
					return nil // sold out
				}
				if err := tx.Create(&reservation{CounterID: 1}).Error; err != nil {
					return fmt.Errorf("reserve: %w", err)
				}
				reserved.Add(1)
				return nil
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}

	var c counter
	require.NoError(t, gdb.First(&c, 1).Error)
	assert.Equal(t, 0, c.N)
	assert.EqualValues(t, stock, reserved.Load())
	var n int64
	require.NoError(t, gdb.Model(&reservation{}).Count(&n).Error)
	assert.EqualValues(t, stock, n)
}

type user struct {
	ID    uint
	Email string `gorm:"size:191;uniqueIndex;not null"`
	Name  string `gorm:"size:191;not null"`
}

type order struct {
	ID     uint
	UserID uint
	User   user `gorm:"constraint:OnDelete:RESTRICT"`
}

func TestIsUniqueViolation(t *testing.T) {
	gdb := dbtest.Open(t)
	require.NoError(t, gdb.AutoMigrate(&user{}, &order{}))
	require.NoError(t, gdb.Create(&user{ID: 1, Email: "a@example.com", Name: "A"}).Error)

	dupIndex := gdb.Create(&user{Email: "a@example.com", Name: "B"}).Error
	require.Error(t, dupIndex)
	assert.True(t, db.IsUniqueViolation(dupIndex), "unique index: %v", dupIndex)
	assert.True(t, db.IsUniqueViolation(fmt.Errorf("create user: %w", dupIndex)), "wrapped")

	// Inside a transaction, as services do it.
	dupTx := gdb.Transaction(func(tx *gorm.DB) error {
		return tx.Create(&user{Email: "a@example.com", Name: "C"}).Error
	})
	assert.True(t, db.IsUniqueViolation(dupTx), "in transaction: %v", dupTx)

	dupPK := gdb.Create(&user{ID: 1, Email: "other@example.com", Name: "D"}).Error
	require.Error(t, dupPK)
	assert.True(t, db.IsUniqueViolation(dupPK), "primary key: %v", dupPK)

	// Other failures are not duplicates.
	notFound := gdb.First(&user{}, 42).Error
	assert.ErrorIs(t, notFound, gorm.ErrRecordNotFound)
	assert.False(t, db.IsUniqueViolation(notFound))

	fk := gdb.Create(&order{UserID: 999}).Error
	require.Error(t, fk, "foreign keys must be enforced")
	assert.False(t, db.IsUniqueViolation(fk), "foreign key: %v", fk)

	noTable := gdb.Exec("INSERT INTO nosuchtable (x) VALUES (1)").Error
	require.Error(t, noTable)
	assert.False(t, db.IsUniqueViolation(noTable))

	assert.False(t, db.IsUniqueViolation(nil))
	assert.False(t, db.IsUniqueViolation(errors.New("duplicate entry")))
	assert.True(t, db.IsUniqueViolation(gorm.ErrDuplicatedKey))
}

type event struct {
	ID    uint
	Title string `gorm:"size:191"`
	At    time.Time
	// CreatedAt is set by gorm's NowFunc.
	CreatedAt time.Time
}

// TestRoundTrip checks what must be identical on both drivers: times come back
// equal (UTC, millisecond precision) and 4-byte UTF-8 survives (utf8mb4).
func TestRoundTrip(t *testing.T) {
	gdb := dbtest.Open(t)
	require.NoError(t, gdb.AutoMigrate(&event{}))

	at := time.Date(2024, 2, 29, 23, 59, 58, 123_000_000, time.FixedZone("X", 5*3600))
	in := event{Title: "Bücher 📚 本", At: at}
	require.NoError(t, gdb.Create(&in).Error)
	assert.Equal(t, time.UTC, in.CreatedAt.Location())
	assert.Zero(t, in.CreatedAt.Nanosecond()%int(time.Millisecond), "NowFunc truncates to ms")

	var out event
	require.NoError(t, gdb.First(&out, in.ID).Error)
	assert.Equal(t, in.Title, out.Title)
	assert.True(t, out.At.Equal(at), "at: got %v want %v", out.At, at)
	assert.Equal(t, time.UTC, out.At.Location())
	assert.True(t, out.CreatedAt.Equal(in.CreatedAt), "created_at: got %v want %v", out.CreatedAt, in.CreatedAt)

	// Time comparisons in SQL work (on SQLite they compare text).
	var n int64
	require.NoError(t, gdb.Model(&event{}).Where("at < ?", at.Add(time.Second)).Count(&n).Error)
	assert.EqualValues(t, 1, n)
	require.NoError(t, gdb.Model(&event{}).Where("at > ?", at.Add(time.Millisecond)).Count(&n).Error)
	assert.EqualValues(t, 0, n)
}

func TestPing(t *testing.T) {
	gdb := dbtest.Open(t)
	require.NoError(t, db.Ping(context.Background(), gdb))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.Error(t, db.Ping(ctx, gdb), "cancelled context")

	// A second pool on the same database, closed: Ping must report it.
	other, err := db.Open(context.Background(), dbtest.Config(t))
	require.NoError(t, err)
	require.NoError(t, db.Close(other))
	assert.Error(t, db.Ping(context.Background(), other))
	assert.Error(t, db.Ping(context.Background(), nil))
}

func TestOpenRejectsBadConfig(t *testing.T) {
	ctx := context.Background()
	for _, cfg := range []db.Config{
		{Driver: "postgres", DSN: "x"},
		{Driver: "", DSN: "x"},
		{Driver: db.DriverSQLite, DSN: ""},
		{Driver: db.DriverSQLite, DSN: ":memory:"},
		{Driver: db.DriverSQLite, DSN: "file::memory:?cache=shared"},
		{Driver: db.DriverSQLite, DSN: "file:x.db?mode=memory"},
		{Driver: db.DriverSQLite, DSN: t.TempDir() + "/x.db?_time_format=unix"},
		{Driver: db.DriverSQLite, DSN: t.TempDir() + "/x.db", MaxOpenConns: -1},
		{Driver: db.DriverMySQL, DSN: "not a dsn"},
		{Driver: db.DriverMySQL, DSN: "root@tcp(127.0.0.1:1)/"}, // no database name
	} {
		gdb, err := db.Open(ctx, cfg)
		assert.Error(t, err, "%+v", cfg)
		assert.Nil(t, gdb)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err := db.Open(cancelled, db.Config{Driver: db.DriverSQLite, DSN: t.TempDir() + "/x.db"})
	assert.ErrorIs(t, err, context.Canceled)
}

// TestOpenMySQLWaitsForServer: a service started before its database waits
// for it. The "server" is a TCP proxy to the real one that starts listening
// only after a while.
func TestOpenMySQLWaitsForServer(t *testing.T) {
	if dbtest.Kind() != dbtest.KindMySQL {
		t.Skip("needs a MySQL server (BOOKSTORE_TEST_MYSQL_DSN)")
	}
	cfg := dbtest.Config(t)
	dsn, err := mysql.ParseDSN(cfg.DSN)
	require.NoError(t, err)

	// Reserve a port, free it, and have the proxy take it later.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	proxyAddr := l.Addr().String()
	require.NoError(t, l.Close())

	const delay = 1500 * time.Millisecond
	proxyErr := make(chan error, 1)
	time.AfterFunc(delay, func() { proxyErr <- proxy(t, proxyAddr, dsn.Addr) })

	target := dsn.Clone()
	target.Addr = proxyAddr
	cfg.DSN = target.FormatDSN()
	cfg.ConnectTimeout = 20 * time.Second
	start := time.Now()
	gdb, err := db.Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close(gdb) })
	require.NoError(t, <-proxyErr)
	assert.GreaterOrEqual(t, time.Since(start), delay)
	require.NoError(t, db.Ping(context.Background(), gdb))
}

// proxy forwards TCP connections from listenAddr to target until the test ends.
func proxy(t *testing.T, listenAddr, target string) error {
	l, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return // closed
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				_ = in.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, in, out)
			mu.Unlock()
			go func() { _, _ = io.Copy(out, in); _ = out.Close() }()
			go func() { _, _ = io.Copy(in, out); _ = in.Close() }()
		}
	}()
	return nil
}
