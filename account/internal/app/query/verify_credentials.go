package query

import (
	"context"
	"errors"
	"log/slog"

	"example.com/bookstore/account/internal/domain"
)

// VerifyCredentials is a login attempt at the token endpoint.
type VerifyCredentials struct {
	Username string
	// Password is the wire password (contract §3.3).
	Password string
}

// VerifyCredentialsHandler runs VerifyCredentials.
type VerifyCredentialsHandler struct {
	repo domain.Repository
}

// NewVerifyCredentialsHandler returns a handler over repo.
func NewVerifyCredentialsHandler(repo domain.Repository) VerifyCredentialsHandler {
	return VerifyCredentialsHandler{repo: repo}
}

// Handle returns the account the credentials belong to, or
// domain.ErrBadCredentials for a wrong password and for an unknown user
// alike, both in the time of one bcrypt check.
func (h VerifyCredentialsHandler) Handle(ctx context.Context, q VerifyCredentials) (*domain.Account, error) {
	username := domain.NormalizeLoginName(q.Username)
	a, err := h.repo.ByUsername(ctx, username)
	if errors.Is(err, domain.ErrNotFound) {
		domain.BurnPasswordCheck(q.Password)
		// The caller is not told which check failed; the log says, for
		// whoever debugs a login.
		slog.DebugContext(ctx, "account: credentials refused", "username", username, "reason", "unknown user")
		return nil, domain.ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if !a.VerifyPassword(q.Password) {
		slog.DebugContext(ctx, "account: credentials refused", "username", username, "reason", "wrong password")
		return nil, domain.ErrBadCredentials
	}
	return a, nil
}
