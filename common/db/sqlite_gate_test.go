package db

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSQLiteWriteGate: read-write transactions of one process enter a file
// one at a time and the next starts when the previous ends; read-only ones
// and other files are not held up; a wait ends with the caller's context
// or after the busy timeout.
func TestSQLiteWriteGate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "g.db")
	sqlDB := openSQLiteForTest(t, path)
	_, err := sqlDB.ExecContext(ctx, "CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER); INSERT INTO c VALUES (1, 0)")
	require.NoError(t, err)

	tx1, err := sqlDB.BeginTx(ctx, nil)
	require.NoError(t, err)

	second := make(chan error, 1)
	go func() {
		tx2, err := sqlDB.BeginTx(ctx, nil)
		if err == nil {
			_, err = tx2.ExecContext(ctx, "UPDATE c SET n = n + 10")
			err = errors.Join(err, tx2.Commit())
		}
		second <- err
	}()
	select {
	case err := <-second:
		t.Fatalf("second writer began while the first was open: %v", err)
	case <-time.After(50 * time.Millisecond):
	}

	// Readers and other files go on meanwhile.
	ro, err := sqlDB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	require.NoError(t, err)
	require.NoError(t, ro.Rollback())
	other := openSQLiteForTest(t, filepath.Join(t.TempDir(), "other.db"))
	otx, err := other.BeginTx(ctx, nil)
	require.NoError(t, err)
	require.NoError(t, otx.Rollback())

	_, err = tx1.ExecContext(ctx, "UPDATE c SET n = n + 1")
	require.NoError(t, err)
	require.NoError(t, tx1.Commit())
	require.NoError(t, <-second)
	var n int
	require.NoError(t, sqlDB.QueryRowContext(ctx, "SELECT n FROM c").Scan(&n))
	require.Equal(t, 11, n)

	// A rolled-back (or failed) transaction frees the gate too.
	tx3, err := sqlDB.BeginTx(ctx, nil)
	require.NoError(t, err)
	require.NoError(t, tx3.Rollback())

	hold, err := sqlDB.BeginTx(ctx, nil)
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = sqlDB.BeginTx(short, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	defer func(d time.Duration) { gateTimeout = d }(gateTimeout)
	gateTimeout = 30 * time.Millisecond
	_, err = sqlDB.BeginTx(ctx, nil)
	require.ErrorContains(t, err, "database is locked")
	require.NoError(t, hold.Rollback())

	tx4, err := sqlDB.BeginTx(ctx, nil)
	require.NoError(t, err, "the gate is free again")
	require.NoError(t, tx4.Rollback())
}

func TestSQLiteGateOnlyForImmediate(t *testing.T) {
	require.Nil(t, gateFor(filepath.Join(t.TempDir(), "x.db")+"?_txlock=deferred"))
	require.Nil(t, gateFor(filepath.Join(t.TempDir(), "x.db")))
	p := filepath.Join(t.TempDir(), "x.db")
	require.NotNil(t, gateFor(p+"?_pragma=busy_timeout(1)&_txlock=immediate"))
	require.Equal(t, gateFor(p+"?_txlock=immediate"), gateFor("file:"+p+"?_txlock=immediate"))
}
