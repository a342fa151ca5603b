package adapters

import (
	"context"
	"errors"
	"time"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"example.com/bookstore/common/db"
)

// errRetry asks inTx to run the transaction again (a lost compare-and-set).
var errRetry = errors.New("transaction must be retried")

const txAttempts = 5

// inTx runs fn in a transaction, again when MySQL chose it as a deadlock
// victim or it lost a compare-and-set: both roll back everything, so a new
// attempt is safe. SQLite needs no retries: its writers take the lock at
// BEGIN (common/db) and wait for each other there; concurrent transactions
// share one commit there (db.Transaction).
func inTx(ctx context.Context, gdb *gorm.DB, fn func(tx *gorm.DB) error) error {
	var err error
	for attempt := range txAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
			}
		}
		err = db.Transaction(ctx, gdb, fn)
		if !retryable(err) {
			return err
		}
	}
	return err
}

func retryable(err error) bool {
	if errors.Is(err, errRetry) {
		return true
	}
	var my *mysql.MySQLError
	// 1213 ER_LOCK_DEADLOCK, 1205 ER_LOCK_WAIT_TIMEOUT.
	return errors.As(err, &my) && (my.Number == 1213 || my.Number == 1205)
}
