// Package app holds the account service's use cases: commands change
// accounts, queries read them. Access rules that depend on the caller's
// token are decided by the ports, except where the contract orders them
// among validation (UpdateAccount).
package app

import (
	"example.com/bookstore/account/internal/app/command"
	"example.com/bookstore/account/internal/app/query"
	"example.com/bookstore/account/internal/domain"
)

// Application is the set of use cases the ports call.
type Application struct {
	Commands Commands
	Queries  Queries
}

// Commands change accounts.
type Commands struct {
	CreateAccount command.CreateAccountHandler
	UpdateAccount command.UpdateAccountHandler
}

// Queries read accounts.
type Queries struct {
	Account           query.AccountHandler
	VerifyCredentials query.VerifyCredentialsHandler
}

// New wires the use cases over a repository.
func New(repo domain.Repository) Application {
	return Application{
		Commands: Commands{
			CreateAccount: command.NewCreateAccountHandler(repo),
			UpdateAccount: command.NewUpdateAccountHandler(repo),
		},
		Queries: Queries{
			Account:           query.NewAccountHandler(repo),
			VerifyCredentials: query.NewVerifyCredentialsHandler(repo),
		},
	}
}
