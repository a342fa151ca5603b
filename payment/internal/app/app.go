// Package app is the payment service's application layer: the use cases
// (command/, query/) and the background work that keeps the warehouse in
// step with the payments (Worker).
package app

import (
	"example.com/bookstore/payment/internal/app/command"
	"example.com/bookstore/payment/internal/app/query"
)

// Application is what the ports call.
type Application struct {
	Commands Commands
	Queries  Queries
}

type Commands struct {
	Settle command.SettleHandler
	Pay    command.PayHandler
	Cancel command.CancelHandler
}

type Queries struct {
	Payment query.PaymentHandler
	Wallet  query.WalletHandler
}
