// Package authn verifies the bearer token of a REST request and decides who
// may call what (contract §2.4 and the access column of §4).
//
// The gateway checks once and forwards the caller's raw token on every Kitex
// call; each service verifies it again and enforces its own rules, so a rule
// here is a first line, never the only one.
package authn

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/kitex/client/callopt"
	"github.com/golang-jwt/jwt/v5"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/gateway/internal/httperr"
	"example.com/bookstore/idl/kitex_gen/account"
	"example.com/bookstore/idl/kitex_gen/account/accountservice"
)

// Caller is who sent a request: anonymous (no token) or the principal of a
// verified token.
type Caller struct {
	// Token is the raw bearer token, "" for an anonymous caller.
	Token     string
	Principal auth.Principal
	// legacy marks a user token without the account_id claim: one minted
	// by the original Fenix system. Its account id is looked up by name.
	legacy bool
}

// Anonymous reports whether the request carried no token.
func (c *Caller) Anonymous() bool { return c.Token == "" }

// Context returns ctx whose Kitex calls carry the caller's identity: the raw
// token and, for a legacy token, the account id the gateway resolved.
func (c *Caller) Context(ctx context.Context) context.Context {
	if c.Token == "" {
		return ctx
	}
	ctx = auth.WithToken(ctx, c.Token)
	if c.legacy && c.Principal.AccountID != 0 {
		ctx = auth.WithAccountID(ctx, c.Principal.AccountID)
	}
	return ctx
}

// AccountLookup is the one account call authentication needs.
type AccountLookup interface {
	GetAccount(ctx context.Context, req *account.GetAccountRequest, opts ...callopt.Option) (*account.Account, error)
}

var _ AccountLookup = accountservice.Client(nil)

// Authenticator verifies tokens and applies the access rules.
type Authenticator struct {
	keys     *auth.Keys
	accounts AccountLookup
	service  *auth.ServiceTokens
	opts     func() []callopt.Option
	ids      *idCache
}

// New returns an Authenticator. accounts resolves the users of legacy
// tokens, called with the gateway's own service token; opts supplies the
// per-call options of those calls (may be nil).
func New(keys *auth.Keys, accounts AccountLookup, service *auth.ServiceTokens, opts func() []callopt.Option, cacheTTL time.Duration) *Authenticator {
	if opts == nil {
		opts = func() []callopt.Option { return nil }
	}
	return &Authenticator{keys: keys, accounts: accounts, service: service, opts: opts, ids: newIDCache(cacheTTL, 10000)}
}

const callerKey = "bookstore.caller"

// Middleware verifies the request's token, if any. No token: the request
// proceeds anonymously. A bad or expired one is refused with 401 even on
// public endpoints, as Spring's resource server filter does.
func (a *Authenticator) Middleware(write func(ctx context.Context, c *app.RequestContext, err error)) app.HandlerFunc {
	return func(ctx context.Context, c *app.RequestContext) {
		caller, err := a.Authenticate(c)
		if err != nil {
			write(ctx, c, err)
			c.Abort()
			return
		}
		c.Set(callerKey, caller)
		c.Next(ctx)
	}
}

// Authenticate returns the caller of the request.
func (a *Authenticator) Authenticate(c *app.RequestContext) (*Caller, error) {
	raw, present := tokenOf(c)
	if !present {
		return &Caller{}, nil
	}
	if raw == "" {
		return nil, httperr.InvalidToken("Empty access token")
	}
	claims, err := a.keys.Verify(raw)
	if err != nil {
		return nil, httperr.InvalidToken(describe(raw))
	}
	if claims.IsRefresh() {
		return nil, httperr.InvalidToken("Encoded token is a refresh token")
	}
	p := auth.PrincipalOf(claims)
	// PrincipalOf derives a user's authorities from its account id (contract
	// §2.4); a legacy token's id is resolved later, by name.
	return &Caller{Token: raw, Principal: p, legacy: p.Username != "" && p.AccountID == 0}, nil
}

// describe says why a token failed verification without echoing it.
func describe(raw string) string {
	var c auth.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(raw, &c); err == nil && c.Exp != 0 && time.Unix(c.Exp, 0).Before(time.Now()) {
		return "Access token expired"
	}
	return "Invalid access token"
}

// tokenOf finds the bearer token: the Authorization header with a
// case-insensitive "bearer" scheme, else the access_token query parameter.
// Another scheme (Basic) is not a bearer token, so the request is anonymous.
func tokenOf(c *app.RequestContext) (raw string, present bool) {
	if h := strings.TrimSpace(string(c.GetHeader("Authorization"))); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "bearer") {
			return strings.TrimSpace(rest), true
		}
	}
	if q, ok := c.GetQuery("access_token"); ok {
		return q, true
	}
	return "", false
}

// CallerOf returns the caller the middleware stored; anonymous if none.
func CallerOf(c *app.RequestContext) *Caller {
	if v, ok := c.Get(callerKey); ok {
		if caller, ok := v.(*Caller); ok {
			return caller
		}
	}
	return &Caller{}
}

// RequireScope admits any token granted one of scopes (A1: a user or a
// service may read an account); anonymous callers get 403.
func (a *Authenticator) RequireScope(c *app.RequestContext, scopes ...string) (*Caller, error) {
	caller := CallerOf(c)
	for _, s := range scopes {
		if caller.Principal.HasScope(s) {
			return caller, nil
		}
	}
	return nil, httperr.Forbidden()
}

// RequireUser admits a logged-in user of the browser client and resolves
// the account id of a legacy token. Anonymous callers get 403.
func (a *Authenticator) RequireUser(ctx context.Context, c *app.RequestContext) (*Caller, error) {
	caller := CallerOf(c)
	if caller.Principal.Username == "" || !caller.Principal.HasScope(auth.ScopeBrowser) {
		return nil, httperr.Forbidden()
	}
	if err := a.resolve(ctx, caller); err != nil {
		return nil, err
	}
	if !caller.Principal.IsUser() {
		return nil, httperr.Forbidden()
	}
	return caller, nil
}

// RequireAdmin admits the administrator, through the browser client.
func (a *Authenticator) RequireAdmin(ctx context.Context, c *app.RequestContext) (*Caller, error) {
	caller, err := a.RequireUser(ctx, c)
	if err != nil {
		return nil, err
	}
	if !caller.Principal.IsAdmin() {
		return nil, httperr.Forbidden()
	}
	return caller, nil
}

// resolve fills in the account id (and so the authorities) of a legacy
// token's user, by name, through the account service.
func (a *Authenticator) resolve(ctx context.Context, caller *Caller) error {
	if !caller.legacy || caller.Principal.AccountID != 0 {
		return nil
	}
	name := caller.Principal.Username
	id, ok := a.ids.get(name)
	if !ok {
		sctx, err := a.service.Context(ctx)
		if err != nil {
			return httperr.Internal(err)
		}
		acc, err := a.accounts.GetAccount(sctx, &account.GetAccountRequest{Username: name}, a.opts()...)
		switch {
		case rpcerr.Is(err, rpcerr.NotFound):
			// The token names a user who no longer exists.
			return httperr.InvalidToken("Unknown user")
		case err != nil:
			return httperr.FromRPC(err, "account", httperr.Read)
		case acc == nil || acc.GetId() == 0:
			return httperr.Internal(errors.New("account service returned no account"))
		}
		id = acc.GetId()
		a.ids.put(name, id)
	}
	caller.Principal.SetAccountID(id)
	return nil
}
