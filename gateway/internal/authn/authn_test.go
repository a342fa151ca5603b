package authn

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bytedance/gopkg/cloud/metainfo"
	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/kitex/client/callopt"
	"github.com/cloudwego/kitex/pkg/kerrors"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/gateway/internal/httperr"
	"example.com/bookstore/idl/kitex_gen/account"
)

const key = "601304E0-8AD4-40B0-BD51-0B432DC47461"

type lookup struct {
	mu     sync.Mutex
	calls  int
	tokens []string
	err    error
}

func (l *lookup) GetAccount(ctx context.Context, req *account.GetAccountRequest, _ ...callopt.Option) (*account.Account, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	tok, _ := metainfo.GetValue(ctx, auth.MetaToken)
	l.tokens = append(l.tokens, tok)
	if l.err != nil {
		return nil, l.err
	}
	switch req.Username {
	case "icyfenix":
		return &account.Account{Id: 1, Username: "icyfenix"}, nil
	case "alice":
		return &account.Account{Id: 2, Username: "alice"}, nil
	}
	return nil, rpcerr.New(rpcerr.NotFound, "用户不存在")
}

func newAuthenticator() (*Authenticator, *lookup, *auth.Keys) {
	keys := auth.NewKeys(key)
	l := &lookup{}
	return New(keys, l, auth.NewServiceTokens(keys, "gateway", time.Minute), nil, time.Minute), l, keys
}

func request(header, query string) *app.RequestContext {
	c := app.NewContext(0)
	c.Request.SetRequestURI("/restful/products" + query)
	if header != "" {
		c.Request.Header.Set("Authorization", header)
	}
	return c
}

func sign(t *testing.T, keys *auth.Keys, c auth.Claims) string {
	t.Helper()
	tok, err := keys.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func userClaims(id int64, name string) auth.Claims {
	return auth.Claims{UserName: name, Username: name, Scope: []string{auth.ScopeBrowser}, Exp: time.Now().Add(time.Hour).Unix(),
		Authorities: auth.RolesFor(id), JTI: "j", ClientID: "bookstore_frontend", AccountID: id}
}

// legacyClaims are those of a token minted by the original system (contract
// §3.4): no account_id.
func legacyClaims(name string) auth.Claims {
	return auth.Claims{UserName: name, Scope: []string{auth.ScopeBrowser}, Exp: 3164262430,
		Authorities: []string{auth.RoleUser, auth.RoleAdmin}, JTI: "6f1ba8e0-4d5e-4bb0-ae67-4b0e4ee7c1de",
		ClientID: "bookstore_frontend", Username: name}
}

func invalidToken(t *testing.T, err error, desc string) {
	t.Helper()
	var e *httperr.Error
	if !errors.As(err, &e) || e.Status != 401 || e.Body != (httperr.OAuth{Error: "invalid_token", Description: desc}) ||
		e.Header["WWW-Authenticate"] == "" {
		t.Fatalf("got %v, want 401 invalid_token %q", err, desc)
	}
}

func forbidden(t *testing.T, err error) {
	t.Helper()
	var e *httperr.Error
	if !errors.As(err, &e) || e.Status != 403 || e.Body != (httperr.Coded{Code: 1, Message: "Access is denied"}) {
		t.Fatalf("got %v, want 403", err)
	}
}

func TestAuthenticateExtractsTheToken(t *testing.T) {
	a, _, keys := newAuthenticator()
	tok := sign(t, keys, userClaims(2, "alice"))
	for _, tc := range []struct {
		header, query string
		user          string
	}{
		{"", "", ""},
		{"bearer " + tok, "", "alice"},
		{"Bearer " + tok, "", "alice"},
		{"BEARER   " + tok + " ", "", "alice"},
		{"", "?access_token=" + tok, "alice"},
		{"Basic dTpw", "", ""},
		{"Basic dTpw", "?access_token=" + tok, "alice"},
	} {
		caller, err := a.Authenticate(request(tc.header, tc.query))
		if err != nil {
			t.Fatalf("%q %q: %v", tc.header, tc.query, err)
		}
		if caller.Principal.Username != tc.user || caller.Anonymous() != (tc.user == "") {
			t.Fatalf("%q %q: caller %+v", tc.header, tc.query, caller)
		}
	}
}

func TestAuthenticateRefusesBadTokens(t *testing.T) {
	a, _, keys := newAuthenticator()
	expired := userClaims(2, "alice")
	expired.Exp = time.Now().Add(-time.Second).Unix()
	refresh := userClaims(2, "alice")
	refresh.ATI = "access-jti"
	for _, tc := range []struct{ header, desc string }{
		{"bearer ", "Empty access token"},
		{"bearer " + sign(t, keys, expired), "Access token expired"},
		{"bearer " + sign(t, auth.NewKeys("not-the-shared-key-123"), userClaims(2, "alice")), "Invalid access token"},
		{"bearer not-a-jwt", "Invalid access token"},
		{"bearer " + sign(t, keys, refresh), "Encoded token is a refresh token"},
	} {
		_, err := a.Authenticate(request(tc.header, ""))
		invalidToken(t, err, tc.desc)
	}
}

func TestRules(t *testing.T) {
	a, _, keys := newAuthenticator()
	ctx := context.Background()
	admin := request("bearer "+sign(t, keys, userClaims(1, "icyfenix")), "")
	alice := request("bearer "+sign(t, keys, userClaims(2, "alice")), "")
	// A token claiming ROLE_ADMIN for another account: roles follow the account.
	boasting := userClaims(2, "alice")
	boasting.Authorities = []string{auth.RoleUser, auth.RoleAdmin}
	boast := request("bearer "+sign(t, keys, boasting), "")
	service := request("bearer "+sign(t, keys, auth.Claims{Scope: []string{auth.ScopeService}, Exp: time.Now().Add(time.Hour).Unix(), JTI: "s", ClientID: "payment"}), "")
	anonymous := request("", "")
	for _, c := range []*app.RequestContext{admin, alice, boast, service, anonymous} {
		caller, err := a.Authenticate(c)
		if err != nil {
			t.Fatal(err)
		}
		c.Set(callerKey, caller)
	}

	if _, err := a.RequireAdmin(ctx, admin); err != nil {
		t.Fatalf("admin: %v", err)
	}
	for _, c := range []*app.RequestContext{alice, boast, service, anonymous} {
		_, err := a.RequireAdmin(ctx, c)
		forbidden(t, err)
	}
	for _, c := range []*app.RequestContext{admin, alice, boast} {
		if _, err := a.RequireUser(ctx, c); err != nil {
			t.Fatalf("user: %v", err)
		}
	}
	for _, c := range []*app.RequestContext{service, anonymous} {
		_, err := a.RequireUser(ctx, c)
		forbidden(t, err)
	}
	for _, c := range []*app.RequestContext{admin, service} {
		if _, err := a.RequireScope(c, auth.ScopeBrowser, auth.ScopeService); err != nil {
			t.Fatalf("scope: %v", err)
		}
	}
	_, err := a.RequireScope(anonymous, auth.ScopeBrowser, auth.ScopeService)
	forbidden(t, err)
}

func TestLegacyToken(t *testing.T) {
	a, l, keys := newAuthenticator()
	ctx := context.Background()
	raw := sign(t, keys, legacyClaims("icyfenix"))

	for i := 0; i < 3; i++ {
		c := request("bearer "+raw, "")
		caller, err := a.Authenticate(c)
		if err != nil {
			t.Fatal(err)
		}
		c.Set(callerKey, caller)
		caller, err = a.RequireAdmin(ctx, c)
		if err != nil {
			t.Fatalf("legacy admin token refused: %v", err)
		}
		if caller.Principal.AccountID != 1 {
			t.Fatalf("account id %d", caller.Principal.AccountID)
		}
		out := caller.Context(ctx)
		if tok, _ := metainfo.GetValue(out, auth.MetaToken); tok != raw {
			t.Fatal("the raw token is not forwarded")
		}
		if id, _ := metainfo.GetValue(out, auth.MetaAccountID); id != "1" {
			t.Fatalf("forwarded account id %q", id)
		}
	}
	if l.calls != 1 {
		t.Fatalf("%d lookups; the id must be cached", l.calls)
	}
	// The lookup is made with the gateway's own SERVICE token.
	svc, err := keys.Verify(l.tokens[0])
	if err != nil || svc.ClientID != "gateway" || len(svc.Scope) != 1 || svc.Scope[0] != auth.ScopeService {
		t.Fatalf("lookup token %+v %v", svc, err)
	}

	// After the cache time the account is looked up again.
	a.ids.now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	c := request("bearer "+raw, "")
	caller, _ := a.Authenticate(c)
	c.Set(callerKey, caller)
	if _, err := a.RequireUser(ctx, c); err != nil || l.calls != 2 {
		t.Fatalf("after expiry: %v, %d lookups", err, l.calls)
	}

	// A current token carries its account id: no lookup, no extra metadata.
	c = request("bearer "+sign(t, keys, userClaims(2, "alice")), "")
	caller, _ = a.Authenticate(c)
	c.Set(callerKey, caller)
	if _, err := a.RequireUser(ctx, c); err != nil || l.calls != 2 {
		t.Fatalf("current token: %v, %d lookups", err, l.calls)
	}
	if _, ok := metainfo.GetValue(caller.Context(ctx), auth.MetaAccountID); ok {
		t.Fatal("account id metadata sent for a token that has the claim")
	}
}

func TestLegacyTokenFailures(t *testing.T) {
	a, l, keys := newAuthenticator()
	ctx := context.Background()
	use := func(name string) error {
		c := request("bearer "+sign(t, keys, legacyClaims(name)), "")
		caller, err := a.Authenticate(c)
		if err != nil {
			return err
		}
		c.Set(callerKey, caller)
		_, err = a.RequireUser(ctx, c)
		return err
	}
	invalidToken(t, use("ghost"), "Unknown user")

	l.err = kerrors.ErrGetConnection.WithCause(errors.New("connection refused"))
	var e *httperr.Error
	if err := use("alice"); !errors.As(err, &e) || e.Status != 503 || e.Body != (httperr.Coded{Code: 1, Message: "account 服务暂不可用"}) {
		t.Fatalf("account down: %v", err)
	}
}

func TestIDCacheBound(t *testing.T) {
	c := newIDCache(time.Minute, 3)
	for i, name := range []string{"a", "b", "c", "d", "e"} {
		c.put(name, int64(i))
	}
	if len(c.m) > 3 {
		t.Fatalf("cache grew to %d", len(c.m))
	}
	if id, ok := c.get("e"); !ok || id != 4 {
		t.Fatalf("latest entry lost: %d %v", id, ok)
	}
}
