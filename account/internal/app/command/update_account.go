package command

import (
	"context"
	"errors"

	"example.com/bookstore/account/internal/domain"
)

// Caller is who asks for a change, as verified from their token.
type Caller struct {
	// AccountID is 0 when the token does not carry it (tokens of the
	// original system) or the caller is anonymous.
	AccountID int64
	// Username is empty for anonymous and service callers.
	Username string
	// Browser reports a token issued to the storefront (scope BROWSER): the
	// only kind that may change an account.
	Browser bool
}

// UpdateAccount replaces the caller's own account.
type UpdateAccount struct {
	ID      int64
	Profile domain.Profile
	// Password is the new wire password; empty keeps the current one.
	Password string
	Caller   Caller
}

// UpdateAccountHandler runs UpdateAccount.
type UpdateAccountHandler struct {
	repo domain.Repository
}

// NewUpdateAccountHandler returns a handler over repo.
func NewUpdateAccountHandler(repo domain.Repository) UpdateAccountHandler {
	return UpdateAccountHandler{repo: repo}
}

// Handle checks, in the contract's order: the fields and that the caller
// owns the account (one validation error listing every failure, so an
// anonymous caller gets 400 "不是当前登陆用户" rather than 403); then the
// token's scope; then uniqueness, in the repository's transaction.
func (h UpdateAccountHandler) Handle(ctx context.Context, cmd UpdateAccount) (*domain.Account, error) {
	callerID, err := h.callerID(ctx, cmd.Caller)
	if err != nil {
		return nil, err
	}
	if err := domain.CheckUpdate(cmd.Profile, cmd.ID, callerID); err != nil {
		return nil, err
	}
	if !cmd.Caller.Browser {
		return nil, domain.ErrAccessDenied
	}
	pw, err := domain.PasswordChange(cmd.Password)
	if err != nil {
		return nil, err
	}
	return h.repo.Update(ctx, cmd.ID, func(a *domain.Account) error {
		return a.Replace(cmd.Profile, pw)
	})
}

// callerID resolves the caller's account id, looking the username up when
// the token names the user only.
func (h UpdateAccountHandler) callerID(ctx context.Context, c Caller) (int64, error) {
	if c.AccountID != 0 || c.Username == "" {
		return c.AccountID, nil
	}
	a, err := h.repo.ByUsername(ctx, c.Username)
	if errors.Is(err, domain.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return a.ID(), nil
}
