// Package config is the payment service's typed configuration
// (conf/config.toml, overridden by environment variables).
package config

import (
	"fmt"
	"time"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/db"
	"example.com/bookstore/common/logging"
	"example.com/bookstore/common/rpcclient"
	"example.com/bookstore/common/server"
	"example.com/bookstore/common/telemetry"
)

// Config is the whole file.
type Config struct {
	Server  server.Config  `mapstructure:"server"`
	Log     logging.Config `mapstructure:"log"`
	DB      db.Config      `mapstructure:"db"`
	Auth    auth.Config    `mapstructure:"auth"`
	Clients Clients        `mapstructure:"clients"`
	Payment Payment        `mapstructure:"payment"`
	// Telemetry says where traces go; restart to change it.
	Telemetry telemetry.Config `mapstructure:"telemetry"`
}

// Clients are the services payment calls.
type Clients struct {
	Warehouse rpcclient.Config `mapstructure:"warehouse"`
}

// Payment tunes settlements, the expiry sweeper and the outbox dispatcher.
// The hot keys are read at each use, so a changed file applies to the next
// settlement or tick; a payment keeps the expiry it was created with.
type Payment struct {
	// Expires is how long a settlement may wait for payment (the
	// contract's 120000 ms).
	Expires time.Duration `mapstructure:"expires" hot:"true" validate:"gte=1s"`
	// SweepInterval is how often expired payments are timed out; a payment
	// times out at most this long after its expiry.
	SweepInterval time.Duration `mapstructure:"sweep_interval" hot:"true" validate:"gte=10ms"`
	// OutboxRetryInterval is how often undelivered stock actions are
	// retried, and the first retry delay (doubled per failed attempt).
	OutboxRetryInterval time.Duration `mapstructure:"outbox_retry_interval" hot:"true" validate:"gte=10ms"`
	// OutboxMaxBackoff caps the retry delay of one stock action.
	OutboxMaxBackoff time.Duration `mapstructure:"outbox_max_backoff" hot:"true" validate:"gte=10ms"`
	// OutboxLease is how long a replica owns a stock action it is
	// delivering; after that another replica may take it over.
	OutboxLease time.Duration `mapstructure:"outbox_lease" hot:"true" validate:"gte=100ms"`
	// OutboxRetention is how long a delivered stock action is kept (for
	// looking into what happened to a payment) before it is deleted.
	OutboxRetention time.Duration `mapstructure:"outbox_retention" hot:"true" validate:"gte=1m"`
}

// Validate checks the rules that span keys.
func (c *Config) Validate() error {
	if c.Payment.OutboxMaxBackoff < c.Payment.OutboxRetryInterval {
		return fmt.Errorf("payment.outbox_max_backoff (%v) is below payment.outbox_retry_interval (%v)",
			c.Payment.OutboxMaxBackoff, c.Payment.OutboxRetryInterval)
	}
	// A delivery holds its lease for the whole warehouse call; a lease
	// shorter than the call would let a second replica send it meanwhile.
	if rpc := c.Clients.Warehouse.RPCTimeout; rpc > 0 && c.Payment.OutboxLease < 2*rpc {
		return fmt.Errorf("payment.outbox_lease (%v) must be at least twice clients.warehouse.rpc_timeout (%v)",
			c.Payment.OutboxLease, rpc)
	}
	return nil
}
