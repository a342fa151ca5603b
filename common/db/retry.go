package db

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"gorm.io/gorm"
)

// maxAttempts bounds the runs of one RetryTransaction.
const maxAttempts = 8

// RetryTransaction runs Transaction(ctx, gdb, fn), and again from the start
// while it fails in a way another attempt can fix: a transient error
// (IsTransient), or one for which again reports true (a service's lost
// compare-and-set). It gives up after 8 attempts, or when ctx ends. The
// pauses between attempts grow and are jittered, so that the losers of one
// race do not collide again. fn keeps no state across runs, as for
// Transaction.
func RetryTransaction(ctx context.Context, gdb *gorm.DB, again func(error) bool, fn func(tx *gorm.DB) error) error {
	for attempt := 1; ; attempt++ {
		err := Transaction(ctx, gdb, fn)
		if err == nil || attempt == maxAttempts || !(IsTransient(err) || again != nil && again(err)) {
			return err
		}
		pause := time.Duration(attempt)*5*time.Millisecond + rand.N(10*time.Millisecond)
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(pause):
		}
	}
}
