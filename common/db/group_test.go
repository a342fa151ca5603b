package db_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
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

// TestTransactionRunsAgainAfterAFailure: a group runs its calls without
// savepoints; when one fails, the transaction is rolled back and the others
// run again, each in a savepoint. So the calls before the failed one run
// twice, the failed one once, and every outcome is as if each call had had
// a transaction of its own.
func TestTransactionRunsAgainAfterAFailure(t *testing.T) {
	if dbtest.Kind() != db.DriverSQLite {
		t.Skip("grouping is SQLite's; MySQL runs a transaction per caller")
	}
	gdb := openGroupDB(t)
	var (
		mu         sync.Mutex
		runs       []int // the callers, in the order their fn ran
		savepoints int
	)
	require.NoError(t, gdb.Callback().Raw().After("gorm:raw").Register("test:savepoints", func(tx *gorm.DB) {
		if strings.HasPrefix(tx.Statement.SQL.String(), "SAVEPOINT") {
			mu.Lock()
			savepoints++
			mu.Unlock()
		}
	}))
	// group runs n callers queued behind a held one; caller fail fails
	// after writing (none if fail < 0). It returns the callers' errors.
	group := func(n, fail int) []error {
		runs, savepoints = nil, 0
		release, started, first := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			first <- db.Transaction(context.Background(), gdb, func(*gorm.DB) error {
				close(started)
				<-release
				return nil
			})
		}()
		<-started
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = db.Transaction(context.Background(), gdb, func(tx *gorm.DB) error {
					mu.Lock()
					runs = append(runs, i)
					mu.Unlock()
					if err := tx.Create(&groupRow{Caller: i}).Error; err != nil {
						return err
					}
					if err := tx.Model(&groupCounter{ID: 1}).Update("n", gorm.Expr("n + 1")).Error; err != nil {
						return err
					}
					if i == fail {
						return fmt.Errorf("caller %d refuses", i)
					}
					return nil
				})
			})
		}
		for queued(t, gdb) != n {
			runtime.Gosched()
		}
		close(release)
		require.NoError(t, <-first)
		wg.Wait()
		return errs
	}
	count := func() (rows, counter int64) {
		var c groupCounter
		require.NoError(t, gdb.Model(&groupRow{}).Count(&rows).Error)
		require.NoError(t, gdb.Take(&c, 1).Error)
		return rows, c.N
	}

	// No failure: one run each, no savepoint.
	for i, err := range group(8, -1) {
		require.NoError(t, err, "caller %d", i)
	}
	require.Len(t, runs, 8)
	require.Zero(t, savepoints)
	rows, n := count()
	require.EqualValues(t, 8, rows)
	require.EqualValues(t, 8, n)

	// Caller 5 fails: the first pass stops there, the second runs the
	// other seven in savepoints.
	errs := group(8, 5)
	for i, err := range errs {
		if i == 5 {
			require.EqualError(t, err, "caller 5 refuses")
		} else {
			require.NoError(t, err, "caller %d", i)
		}
	}
	at := slices.Index(runs, 5)
	require.GreaterOrEqual(t, at, 0)
	first, second := runs[:at+1], runs[at+1:]
	require.Len(t, second, 7, "the second pass runs every other caller: %v", runs)
	require.NotContains(t, second, 5)
	for _, c := range first[:at] {
		require.Contains(t, second, c, "caller %d ran in the first pass and not in the second", c)
	}
	require.Equal(t, 7, savepoints)
	rows, n = count()
	require.EqualValues(t, 8+7, rows, "the failed caller's row is gone, the others' are there once")
	require.EqualValues(t, 8+7, n)
}

func queued(t *testing.T, gdb *gorm.DB) int {
	t.Helper()
	return db.QueuedForTest(gdb)
}
