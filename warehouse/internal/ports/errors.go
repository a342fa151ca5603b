// Package ports is the warehouse's Kitex handler: it checks who may call
// what, turns IDL types into app calls and back, and domain errors into
// rpcerr codes.
package ports

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/warehouse/internal/domain"
)

// msgAccessDenied is Spring Security's message, which the contract keeps.
const msgAccessDenied = "Access is denied"

// errInternal is what a caller learns of a failure that is not its fault;
// the details go to the log only.
var errInternal = errors.New("warehouse: internal error")

// toRPC maps a domain error to its rpcerr code with the domain's message.
func toRPC(ctx context.Context, method string, err error) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		code := rpcerr.FailedPrecondition
		switch {
		case errors.Is(err, domain.ErrInvalid):
			code = rpcerr.InvalidArgument
		case errors.Is(err, domain.ErrNotFound):
			code = rpcerr.NotFound
		case errors.Is(err, domain.ErrInsufficientStock):
			code = rpcerr.InsufficientStock
		case errors.Is(err, domain.ErrWrongState):
			code = rpcerr.FailedPrecondition
		}
		return rpcerr.New(code, de.Message)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return rpcerr.New(rpcerr.Unavailable, "warehouse: "+err.Error())
	}
	slog.ErrorContext(ctx, "warehouse call failed", "method", method, "err", err)
	return errInternal
}

// recoverPanic turns a panic in a handler into an internal error for the
// caller and a log line with the stack for us. Kitex would recover it too,
// but would send the panic's text to the caller.
func recoverPanic(ctx context.Context, method string, err *error) {
	if r := recover(); r != nil {
		slog.ErrorContext(ctx, "warehouse handler panicked", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		*err = errInternal
	}
}

func denied() error { return rpcerr.New(rpcerr.PermissionDenied, msgAccessDenied) }

// isAdmin is the intended rule of the product and stock writes (contract
// §14.2): the administrator, through the browser client.
func isAdmin(p auth.Principal) bool { return p.IsAdmin() && p.HasScope(auth.ScopeBrowser) }

func requireAdmin(ctx context.Context) error {
	if p, ok := auth.FromContext(ctx); ok && isAdmin(p) {
		return nil
	}
	return denied()
}

func requireAdminOrService(ctx context.Context) error {
	if p, ok := auth.FromContext(ctx); ok && (isAdmin(p) || p.HasScope(auth.ScopeService)) {
		return nil
	}
	return denied()
}

func requireService(ctx context.Context) error {
	if p, ok := auth.FromContext(ctx); ok && p.HasScope(auth.ScopeService) {
		return nil
	}
	return denied()
}
