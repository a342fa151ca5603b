package ports

import (
	"context"
	"runtime"

	"example.com/bookstore/common/rpcerr"
)

// passwordSlots bounds the bcrypt hashes computed at once. bcrypt is slow
// on purpose (cost 10, tens of milliseconds of one core), so a burst of
// logins would otherwise occupy every core of the process and every other
// call (GetAccount, which each page view of a logged-in user costs) would
// wait behind them. One core is left to everything else; logins beyond the
// slots queue here, in arrival order.
var passwordSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)-1))

// passwordSlot waits for a slot; release gives it back.
func passwordSlot(ctx context.Context) (release func(), err error) {
	select {
	case passwordSlots <- struct{}{}:
		return func() { <-passwordSlots }, nil
	case <-ctx.Done():
		// The caller gave up while its check was still queued.
		return nil, rpcerr.New(rpcerr.Unavailable, "account service busy")
	}
}
