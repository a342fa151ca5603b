// Package command holds the payment service's use cases that change state:
// one file per command.
package command

import (
	"time"
)

// Kicker wakes the outbox dispatcher after a commit that enqueued stock
// actions, so they go out at once instead of at the next retry tick.
type Kicker interface {
	Kick()
}

// Clock returns the current time; tests and the service pass time.Now.
type Clock func() time.Time
