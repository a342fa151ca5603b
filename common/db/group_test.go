package db_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"example.com/bookstore/common/db"
	"example.com/bookstore/common/db/dbtest"
)

type groupCounter struct {
	ID int64 `gorm:"primaryKey"`
	N  int64
}

type groupRow struct {
	ID     int64 `gorm:"primaryKey"`
	Caller int
}

func openGroupDB(t *testing.T) *gorm.DB {
	t.Helper()
	gdb := dbtest.Open(t)
	require.NoError(t, gdb.AutoMigrate(&groupCounter{}, &groupRow{}))
	require.NoError(t, gdb.Create(&groupCounter{ID: 1}).Error)
	return gdb
}

// TestTransactionIsolatesCallers: many callers at once, each writing a row
// and incrementing a shared counter (read, then write). A caller that fails
// after writing, or panics, leaves nothing behind and gets its own outcome;
// every other caller's writes are committed, none lost. On SQLite the
// callers share transactions (db.Transaction groups them); on MySQL each
// has its own.
func TestTransactionIsolatesCallers(t *testing.T) {
	gdb := openGroupDB(t)
	ctx := context.Background()
	const callers = 200
	errs := make([]error, callers)
	panics := make([]any, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			defer func() { panics[i] = recover() }()
			errs[i] = db.Transaction(ctx, gdb, func(tx *gorm.DB) error {
				if err := tx.Create(&groupRow{Caller: i}).Error; err != nil {
					return err
				}
				var c groupCounter
				if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Take(&c, 1).Error; err != nil {
					return err
				}
				if err := tx.Model(&c).Update("n", c.N+1).Error; err != nil {
					return err
				}
				switch i % 10 {
				case 3:
					return fmt.Errorf("caller %d refuses", i)
				case 7:
					panic(fmt.Sprintf("caller %d panics", i))
				}
				return nil
			})
		})
	}
	wg.Wait()

	want := 0
	for i := range callers {
		switch i % 10 {
		case 3:
			require.EqualError(t, errs[i], fmt.Sprintf("caller %d refuses", i))
			require.Nil(t, panics[i])
		case 7:
			require.Equal(t, fmt.Sprintf("caller %d panics", i), panics[i])
		default:
			require.NoError(t, errs[i], "caller %d", i)
			require.Nil(t, panics[i], "caller %d", i)
			want++
		}
	}
	var c groupCounter
	require.NoError(t, gdb.Take(&c, 1).Error)
	require.EqualValues(t, want, c.N, "every committed increment counted once")
	var rows []groupRow
	require.NoError(t, gdb.Order("caller").Find(&rows).Error)
	require.Len(t, rows, want)
	for _, r := range rows {
		require.NotContains(t, []int{3, 7}, r.Caller%10, "a failed caller's row was committed")
	}
}

// TestTransactionSharesCommitOnSQLite: callers that arrive while a
// transaction runs are committed together in the next one.
func TestTransactionSharesCommitOnSQLite(t *testing.T) {
	if dbtest.Kind() != db.DriverSQLite {
		t.Skip("grouping is SQLite's; MySQL runs a transaction per caller")
	}
	gdb := openGroupDB(t)
	ctx := context.Background()
	release := make(chan struct{})
	started := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.Transaction(ctx, gdb, func(tx *gorm.DB) error {
			close(started)
			<-release
			return tx.Create(&groupRow{Caller: -1}).Error
		})
	}()
	<-started

	const waiting = 10
	var mu sync.Mutex
	txs := map[any]int{}
	errs := make([]error, waiting)
	var wg sync.WaitGroup
	for i := range waiting {
		wg.Go(func() {
			errs[i] = db.Transaction(ctx, gdb, func(tx *gorm.DB) error {
				mu.Lock()
				txs[tx.Statement.ConnPool]++
				mu.Unlock()
				return tx.Create(&groupRow{Caller: i}).Error
			})
		})
	}
	// All ten queue behind the first (which holds the group), then run.
	for {
		var n int64
		mu.Lock()
		n = int64(len(txs))
		mu.Unlock()
		if n > 0 {
			t.Fatal("a caller ran while the first group was open")
		}
		if queued(t, gdb) == waiting {
			break
		}
		runtime.Gosched()
	}
	close(release)
	require.NoError(t, <-first)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "caller %d", i)
	}
	require.Len(t, txs, 1, "the ten waiting callers shared one transaction")
	var n int64
	require.NoError(t, gdb.Model(&groupRow{}).Count(&n).Error)
	require.EqualValues(t, waiting+1, n)
}

// TestTransactionDropsCallerThatGaveUp: a caller whose context ends while
// it waits is not run and gets its context's error; the others go on.
func TestTransactionDropsCallerThatGaveUp(t *testing.T) {
	gdb := openGroupDB(t)
	release := make(chan struct{})
	started := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.Transaction(context.Background(), gdb, func(tx *gorm.DB) error {
			close(started)
			<-release
			return tx.Create(&groupRow{Caller: 1}).Error
		})
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	ran := false
	go func() {
		gaveUp <- db.Transaction(ctx, gdb, func(tx *gorm.DB) error {
			ran = true
			return tx.Create(&groupRow{Caller: 2}).Error
		})
	}()
	if dbtest.Kind() == db.DriverSQLite {
		for queued(t, gdb) != 1 {
			runtime.Gosched()
		}
	}
	cancel()
	close(release)
	require.NoError(t, <-first)
	err := <-gaveUp
	require.True(t, errors.Is(err, context.Canceled), "got %v", err)
	require.False(t, ran)
	var n int64
	require.NoError(t, gdb.Model(&groupRow{}).Count(&n).Error)
	require.EqualValues(t, 1, n)
}

func queued(t *testing.T, gdb *gorm.DB) int {
	t.Helper()
	return db.QueuedForTest(gdb)
}
