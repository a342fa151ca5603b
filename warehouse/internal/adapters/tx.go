package adapters

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"example.com/bookstore/common/db"
)

// errRetry asks inTx to run the transaction again (a lost compare-and-set).
var errRetry = errors.New("transaction must be retried")

// inTx runs fn in a transaction, again when it lost a compare-and-set, or
// when MySQL chose it as a deadlock victim (db.RetryTransaction): both roll
// back everything, so a new attempt is safe.
func inTx(ctx context.Context, gdb *gorm.DB, fn func(tx *gorm.DB) error) error {
	return db.RetryTransaction(ctx, gdb, lostRace, fn)
}

func lostRace(err error) bool { return errors.Is(err, errRetry) }

// retryable reports whether another attempt of a transaction can fix err.
func retryable(err error) bool { return lostRace(err) || db.IsTransient(err) }
