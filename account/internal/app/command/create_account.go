// Package command holds the use cases that change accounts.
package command

import (
	"context"

	"example.com/bookstore/account/internal/domain"
)

// CreateAccount registers a new account. Anyone may, anonymous callers too.
type CreateAccount struct {
	Profile domain.Profile
	// Password is the wire password (contract §3.3).
	Password string
}

// CreateAccountHandler runs CreateAccount.
type CreateAccountHandler struct {
	repo domain.Repository
}

// NewCreateAccountHandler returns a handler over repo.
func NewCreateAccountHandler(repo domain.Repository) CreateAccountHandler {
	return CreateAccountHandler{repo: repo}
}

// Handle validates, hashes and stores the account and returns it with its id.
func (h CreateAccountHandler) Handle(ctx context.Context, cmd CreateAccount) (*domain.Account, error) {
	// Validate before hashing: bcrypt is the expensive part and bad input
	// should not pay for it.
	if err := domain.ValidateProfile(cmd.Profile); err != nil {
		return nil, err
	}
	pw, err := domain.HashPassword(cmd.Password)
	if err != nil {
		return nil, err
	}
	a, err := domain.NewAccount(cmd.Profile, pw)
	if err != nil {
		return nil, err
	}
	return h.repo.Create(ctx, a)
}
