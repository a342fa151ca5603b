// Package query holds the use cases that read accounts.
package query

import (
	"context"

	"example.com/bookstore/account/internal/domain"
)

// AccountHandler finds an account by username.
type AccountHandler struct {
	repo domain.Repository
}

// NewAccountHandler returns a handler over repo.
func NewAccountHandler(repo domain.Repository) AccountHandler {
	return AccountHandler{repo: repo}
}

// Handle returns the account named exactly username, or domain.ErrNotFound.
func (h AccountHandler) Handle(ctx context.Context, username string) (*domain.Account, error) {
	if username == "" {
		return nil, domain.ErrNotFound
	}
	return h.repo.ByUsername(ctx, username)
}
