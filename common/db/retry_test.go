package db_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"example.com/bookstore/common/db"
)

var errLost = errors.New("lost a compare-and-set")

func isLost(err error) bool { return errors.Is(err, errLost) }

// TestRetryTransaction: a transaction that lost a race runs again from the
// start, and its writes land once; other errors return at once; retries
// stop after 8 attempts or when the caller gives up.
func TestRetryTransaction(t *testing.T) {
	gdb := openGroupDB(t)
	ctx := context.Background()
	rows := func() int64 {
		var n int64
		require.NoError(t, gdb.Model(&groupRow{}).Count(&n).Error)
		return n
	}

	runs := 0
	err := db.RetryTransaction(ctx, gdb, isLost, func(tx *gorm.DB) error {
		runs++
		if err := tx.Create(&groupRow{Caller: runs}).Error; err != nil {
			return err
		}
		if runs < 3 {
			return fmt.Errorf("attempt %d: %w", runs, errLost)
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 3, runs)
	require.EqualValues(t, 1, rows(), "the failed attempts' writes were rolled back")

	runs = 0
	refused := errors.New("refused")
	err = db.RetryTransaction(ctx, gdb, isLost, func(*gorm.DB) error { runs++; return refused })
	require.ErrorIs(t, err, refused)
	require.Equal(t, 1, runs, "an error no attempt can fix is not retried")

	runs = 0
	err = db.RetryTransaction(ctx, gdb, isLost, func(*gorm.DB) error { runs++; return errLost })
	require.ErrorIs(t, err, errLost)
	require.Equal(t, 8, runs)

	// A deadlock is retried without being named.
	runs = 0
	err = db.RetryTransaction(ctx, gdb, nil, func(*gorm.DB) error {
		runs++
		if runs == 1 {
			return &mysql.MySQLError{Number: 1213, Message: "Deadlock found when trying to get lock"}
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 2, runs)

	cctx, cancel := context.WithCancel(ctx)
	runs = 0
	err = db.RetryTransaction(cctx, gdb, isLost, func(*gorm.DB) error { runs++; cancel(); return errLost })
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, errLost)
	require.Equal(t, 1, runs)
}

func TestIsTransient(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("x"), false},
		{&mysql.MySQLError{Number: 1213}, true},
		{fmt.Errorf("wrapped: %w", &mysql.MySQLError{Number: 1205}), true},
		{&mysql.MySQLError{Number: 1062}, false},
	} {
		require.Equal(t, tc.want, db.IsTransient(tc.err), "%v", tc.err)
	}
}
