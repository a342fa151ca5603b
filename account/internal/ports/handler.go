// Package ports serves the account service over Kitex: it turns IDL types
// into use-case calls, applies the token rules of the contract (§4 table,
// A1-A3) and maps domain errors to typed RPC errors.
package ports

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"

	"example.com/bookstore/account/internal/app"
	"example.com/bookstore/account/internal/app/command"
	"example.com/bookstore/account/internal/app/query"
	"example.com/bookstore/account/internal/domain"
	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/idl/kitex_gen/account"
)

// Handler implements the generated account.AccountService.
type Handler struct {
	app app.Application
}

var _ account.AccountService = (*Handler)(nil)

// NewHandler returns the Kitex handler over the use cases.
func NewHandler(a app.Application) *Handler {
	return &Handler{app: a}
}

// GetAccount is A1: callers need a token with scope BROWSER or SERVICE (the
// gateway resolves users and the token endpoint builds JWTs with it).
func (h *Handler) GetAccount(ctx context.Context, req *account.GetAccountRequest) (r *account.Account, err error) {
	defer recoverPanic(ctx, "GetAccount", &err)
	p, ok := auth.FromContext(ctx)
	if !ok || !(p.HasScope(auth.ScopeBrowser) || p.HasScope(auth.ScopeService)) {
		return nil, toRPCError(ctx, "GetAccount", domain.ErrAccessDenied)
	}
	if req == nil {
		return nil, rpcerr.New(rpcerr.InvalidArgument, "missing request")
	}
	a, err := h.app.Queries.Account.Handle(ctx, req.Username)
	if err != nil {
		return nil, toRPCError(ctx, "GetAccount", err)
	}
	return toIDL(a), nil
}

// CreateAccount is A2: anyone may register.
func (h *Handler) CreateAccount(ctx context.Context, input *account.AccountInput) (r *account.Account, err error) {
	defer recoverPanic(ctx, "CreateAccount", &err)
	if input == nil {
		input = &account.AccountInput{}
	}
	release, err := passwordSlot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	a, err := h.app.Commands.CreateAccount.Handle(ctx, command.CreateAccount{
		Profile:  toProfile(input),
		Password: input.GetPassword(),
	})
	if err != nil {
		return nil, toRPCError(ctx, "CreateAccount", err)
	}
	return toIDL(a), nil
}

// UpdateAccount is A3: a BROWSER-scope user replaces their own account.
// The use case orders the checks (validation, then scope, then conflicts).
func (h *Handler) UpdateAccount(ctx context.Context, input *account.AccountInput) (r *account.Account, err error) {
	defer recoverPanic(ctx, "UpdateAccount", &err)
	if input == nil {
		input = &account.AccountInput{}
	}
	p, ok := auth.FromContext(ctx)
	caller := command.Caller{}
	if ok {
		caller = command.Caller{
			AccountID: p.AccountID,
			Username:  p.Username,
			Browser:   p.Username != "" && p.HasScope(auth.ScopeBrowser),
		}
	}
	if input.GetPassword() != "" {
		release, err := passwordSlot(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	a, err := h.app.Commands.UpdateAccount.Handle(ctx, command.UpdateAccount{
		ID:       input.GetId(),
		Profile:  toProfile(input),
		Password: input.GetPassword(),
		Caller:   caller,
	})
	if err != nil {
		return nil, toRPCError(ctx, "UpdateAccount", err)
	}
	return toIDL(a), nil
}

// VerifyCredentials serves the token endpoint only (scope SERVICE): it is
// a password oracle and must not be open to browsers.
func (h *Handler) VerifyCredentials(ctx context.Context, req *account.VerifyCredentialsRequest) (r *account.Principal, err error) {
	defer recoverPanic(ctx, "VerifyCredentials", &err)
	p, ok := auth.FromContext(ctx)
	if !ok || !p.HasScope(auth.ScopeService) {
		return nil, toRPCError(ctx, "VerifyCredentials", domain.ErrAccessDenied)
	}
	if req == nil {
		req = &account.VerifyCredentialsRequest{}
	}
	release, err := passwordSlot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	a, err := h.app.Queries.VerifyCredentials.Handle(ctx, query.VerifyCredentials{
		Username: req.Username,
		Password: req.Password,
	})
	if err != nil {
		return nil, toRPCError(ctx, "VerifyCredentials", err)
	}
	return &account.Principal{
		AccountId: a.ID(),
		Username:  a.Username(),
		Roles:     auth.RolesFor(a.ID()),
	}, nil
}

func toProfile(in *account.AccountInput) domain.Profile {
	return domain.Profile{
		Username:  in.GetUsername(),
		Name:      in.GetName(),
		Avatar:    in.Avatar,
		Telephone: in.Telephone,
		Email:     in.Email,
		Location:  in.Location,
	}
}

// toIDL is the public view of an account: no password hash.
func toIDL(a *domain.Account) *account.Account {
	p := a.Profile()
	return &account.Account{
		Id:        a.ID(),
		Username:  p.Username,
		Name:      &p.Name,
		Avatar:    p.Avatar,
		Telephone: p.Telephone,
		Email:     p.Email,
		Location:  p.Location,
	}
}

// errInternal is what callers see of an unexpected failure; the details go
// to the log only.
var errInternal = errors.New("account service: internal error")

// toRPCError maps a domain error to its typed RPC error, keeping the
// contract's message.
func toRPCError(ctx context.Context, method string, err error) error {
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &ve):
		return rpcerr.New(rpcerr.InvalidArgument, ve.Error())
	case errors.Is(err, domain.ErrDuplicateAccount):
		return rpcerr.New(rpcerr.Conflict, domain.ErrDuplicateAccount.Error())
	case errors.Is(err, domain.ErrConflictingAccount):
		return rpcerr.New(rpcerr.Conflict, domain.ErrConflictingAccount.Error())
	case errors.Is(err, domain.ErrNotFound):
		return rpcerr.New(rpcerr.NotFound, domain.ErrNotFound.Error())
	case errors.Is(err, domain.ErrBadCredentials):
		return rpcerr.New(rpcerr.Unauthenticated, domain.ErrBadCredentials.Error())
	case errors.Is(err, domain.ErrAccessDenied):
		return rpcerr.New(rpcerr.PermissionDenied, domain.ErrAccessDenied.Error())
	}
	slog.ErrorContext(ctx, "account: request failed", "method", method, "err", err)
	return errInternal
}

// recoverPanic turns a panic in a handler into errInternal, so a caller
// never sees the panic value (Kitex's own recovery would send it).
func recoverPanic(ctx context.Context, method string, err *error) {
	if v := recover(); v != nil {
		slog.ErrorContext(ctx, "account: panic", "method", method, "panic", v, "stack", string(debug.Stack()))
		*err = errInternal
	}
}
