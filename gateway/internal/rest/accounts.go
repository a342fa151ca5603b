package rest

import (
	"context"
	"errors"

	"github.com/cloudwego/hertz/pkg/app"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/gateway/internal/clients"
	"example.com/bookstore/gateway/internal/httperr"
	"example.com/bookstore/gateway/internal/view"
	"example.com/bookstore/idl/kitex_gen/account"
)

// msgNotCurrentUser is the contract's @AuthenticatedAccount message.
const msgNotCurrentUser = "不是当前登陆用户"

// getAccount is A1: any token with scope BROWSER or SERVICE; 204 if unknown.
func (h *Handlers) getAccount(ctx context.Context, c *app.RequestContext) error {
	caller, err := h.authn.RequireScope(c, auth.ScopeBrowser, auth.ScopeService)
	if err != nil {
		return err
	}
	acc, err := h.clients.Account.GetAccount(caller.Context(ctx),
		&account.GetAccountRequest{Username: c.Param("username")}, h.clients.Opts(clients.Account)...)
	if err != nil {
		return httperr.FromRPC(err, clients.Account, httperr.Read)
	}
	if acc == nil {
		return httperr.Internal(errors.New("account: GetAccount returned nothing"))
	}
	return render(ctx, c, view.AccountOf(acc))
}

// createAccount is A2: registration, anonymous.
func (h *Handlers) createAccount(ctx context.Context, c *app.RequestContext) error {
	var body accountBody
	if err := h.body(c, &body); err != nil {
		return err
	}
	caller := callerOf(c)
	if _, err := h.clients.Account.CreateAccount(caller.Context(ctx), body.input(), h.clients.Opts(clients.Account)...); err != nil {
		return httperr.FromRPC(err, clients.Account, httperr.Write)
	}
	return ok(ctx, c)
}

// updateAccount is A3: a user replaces their own account. The owner check
// is a body validation in the contract (400 "不是当前登陆用户", also for an
// anonymous caller); the account service makes it again.
func (h *Handlers) updateAccount(ctx context.Context, c *app.RequestContext) error {
	var body accountBody
	if err := h.body(c, &body); err != nil {
		return err
	}
	if callerOf(c).Principal.Username == "" {
		return httperr.BadRequest(msgNotCurrentUser)
	}
	caller, err := h.authn.RequireUser(ctx, c)
	if err != nil {
		return err
	}
	if body.ID == nil || *body.ID != caller.Principal.AccountID {
		return httperr.BadRequest(msgNotCurrentUser)
	}
	if _, err := h.clients.Account.UpdateAccount(caller.Context(ctx), body.input(), h.clients.Opts(clients.Account)...); err != nil {
		return httperr.FromRPC(err, clients.Account, httperr.Write)
	}
	return ok(ctx, c)
}
