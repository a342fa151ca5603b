package oauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/kitex/client/callopt"
	"github.com/cloudwego/kitex/pkg/kerrors"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/gateway/internal/config"
	"example.com/bookstore/gateway/internal/httperr"
	"example.com/bookstore/idl/kitex_gen/account"
)

func TestParseRequest(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("payment:payment_secret"))
	for _, tc := range []struct {
		name                           string
		method, query, ctype, body, az string
		want                           tokenRequest
	}{
		{
			name:   "frontend GET with query",
			method: "GET",
			query:  "username=icyfenix&password=MFfTW3uNI4eqhwDkG7HP9p2mzEUu%2Fr2&grant_type=password&client_id=bookstore_frontend&client_secret=bookstore_secret",
			want: tokenRequest{grantType: "password", clientID: "bookstore_frontend", clientSecret: "bookstore_secret",
				paramClient: "bookstore_frontend", username: "icyfenix", password: "MFfTW3uNI4eqhwDkG7HP9p2mzEUu/r2"},
		},
		{
			name:   "service POST with form",
			method: "POST", ctype: "application/x-www-form-urlencoded; charset=UTF-8",
			body: "grant_type=client_credentials&client_id=payment&client_secret=payment_secret",
			want: tokenRequest{grantType: "client_credentials", clientID: "payment", clientSecret: "payment_secret", paramClient: "payment"},
		},
		{
			name:   "POST merges query and form",
			method: "POST", query: "grant_type=refresh_token", ctype: "application/x-www-form-urlencoded",
			body: "refresh_token=abc&client_id=bookstore_frontend&client_secret=s",
			want: tokenRequest{grantType: "refresh_token", clientID: "bookstore_frontend", clientSecret: "s", paramClient: "bookstore_frontend", refreshToken: "abc"},
		},
		{
			name:   "a JSON body is not a form",
			method: "POST", ctype: "application/json", body: `{"grant_type":"password"}`,
			want: tokenRequest{},
		},
		{
			name:   "GET ignores a body",
			method: "GET", ctype: "application/x-www-form-urlencoded", body: "grant_type=password",
			want: tokenRequest{},
		},
		{
			name:   "HTTP Basic client authentication",
			method: "POST", az: basic, ctype: "application/x-www-form-urlencoded", body: "grant_type=client_credentials",
			want: tokenRequest{grantType: "client_credentials", clientID: "payment", clientSecret: "payment_secret", basic: true},
		},
		{
			name:   "Basic is preferred over parameters",
			method: "GET", az: "basic " + base64.StdEncoding.EncodeToString([]byte("payment:payment_secret")),
			query: "grant_type=client_credentials&client_id=warehouse&client_secret=x",
			want:  tokenRequest{grantType: "client_credentials", clientID: "payment", clientSecret: "payment_secret", basic: true, paramClient: "warehouse"},
		},
		{
			name:   "broken Basic falls back to parameters",
			method: "GET", az: "Basic %%%", query: "client_id=a&client_secret=b",
			want: tokenRequest{clientID: "a", clientSecret: "b", paramClient: "a"},
		},
		{
			name:   "scope list",
			method: "GET", query: "scope=BROWSER%20SERVICE,ALL",
			want: tokenRequest{scope: []string{"BROWSER", "SERVICE", "ALL"}, scopeGiven: true},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRequest(tc.method, tc.query, tc.ctype, []byte(tc.body), tc.az)
			if err != nil {
				t.Fatal(err)
			}
			if !equalRequests(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	for _, q := range []string{"grant_type=%zz", "a=%"} {
		if _, err := parseRequest("GET", q, "", nil, ""); err == nil {
			t.Errorf("%q: no error", q)
		}
	}
}

func equalRequests(a, b tokenRequest) bool {
	return slices.Equal(a.scope, b.scope) &&
		[...]any{a.grantType, a.clientID, a.clientSecret, a.basic, a.paramClient, a.scopeGiven, a.username, a.password, a.refreshToken} ==
			[...]any{b.grantType, b.clientID, b.clientSecret, b.basic, b.paramClient, b.scopeGiven, b.username, b.password, b.refreshToken}
}

// fakeAccounts is the account service's side of the token endpoint:
// icyfenix (1) with the wire form of "123456", alice (2) with "alice".
type fakeAccounts struct {
	mu    sync.Mutex
	err   error
	calls []string
}

var users = map[string]struct {
	id       int64
	password string
}{"icyfenix": {1, "MFfTW3uNI4eqhwDkG7HP9p2mzEUu/r2"}, "alice": {2, "alice"}}

func (f *fakeAccounts) note(ctx context.Context, call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	return f.err
}

func (f *fakeAccounts) VerifyCredentials(ctx context.Context, req *account.VerifyCredentialsRequest, _ ...callopt.Option) (*account.Principal, error) {
	if err := f.note(ctx, "VerifyCredentials "+req.Username); err != nil {
		return nil, err
	}
	if req.Username == "broken" {
		// A service answering nonsense: no principal at all.
		return &account.Principal{}, nil
	}
	u, ok := users[req.Username]
	if !ok || u.password != req.Password {
		return nil, rpcerr.New(rpcerr.Unauthenticated, "用户名或密码不正确")
	}
	return &account.Principal{AccountId: u.id, Username: req.Username, Roles: auth.RolesFor(u.id)}, nil
}

func (f *fakeAccounts) GetAccount(ctx context.Context, req *account.GetAccountRequest, _ ...callopt.Option) (*account.Account, error) {
	if err := f.note(ctx, "GetAccount "+req.Username); err != nil {
		return nil, err
	}
	u, ok := users[req.Username]
	if !ok {
		return nil, rpcerr.New(rpcerr.NotFound, "用户不存在")
	}
	return &account.Account{Id: u.id, Username: req.Username}, nil
}

// issuedAt is the fake clock of token issue; tokens are verified against
// the real clock, so it must be recent.
var issuedAt = time.Now().Truncate(time.Second)

func newServer() (*Server, *fakeAccounts) {
	keys := auth.NewKeys("601304E0-8AD4-40B0-BD51-0B432DC47461")
	f := &fakeAccounts{}
	return &Server{
		Keys: keys,
		Clients: ClientsOf(config.OAuthClients{BookstoreFrontend: "bookstore_secret", Account: "account_secret",
			Warehouse: "warehouse_secret", Payment: "payment_secret", Security: "security_secret"}),
		Accounts:   f,
		Service:    auth.NewServiceTokens(keys, "gateway", time.Minute),
		AccessTTL:  3 * time.Hour,
		RefreshTTL: 15 * 24 * time.Hour,
		MaxBody:    1 << 20,
		Now:        func() time.Time { return issuedAt },
	}, f
}

func login(user, password string) tokenRequest {
	return tokenRequest{grantType: "password", clientID: "bookstore_frontend", clientSecret: "bookstore_secret", username: user, password: password}
}

// oauthErr asserts err is the token endpoint error status/code/description.
func oauthErr(t *testing.T, err error, status int, code, desc string) {
	t.Helper()
	var e *httperr.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want %d %s", err, status, code)
	}
	body, ok := e.Body.(httperr.OAuth)
	if e.Status != status || !ok || body.Error != code || body.Description != desc {
		t.Fatalf("got %d %+v, want %d %s %q", e.Status, e.Body, status, code, desc)
	}
}

func TestGrantErrors(t *testing.T) {
	s, f := newServer()
	ctx := context.Background()
	frontend := func(grant string) tokenRequest {
		return tokenRequest{grantType: grant, clientID: "bookstore_frontend", clientSecret: "bookstore_secret"}
	}
	accessOnly, err := s.Keys.Sign(auth.Claims{UserName: "icyfenix", Scope: []string{"BROWSER"}, Exp: issuedAt.Add(time.Hour).Unix(), JTI: "a", ClientID: "bookstore_frontend"})
	if err != nil {
		t.Fatal(err)
	}
	expiredRefresh, _ := s.Keys.Sign(auth.Claims{UserName: "icyfenix", Scope: []string{"BROWSER"}, Exp: time.Now().Add(-time.Minute).Unix(), JTI: "r", ClientID: "bookstore_frontend", ATI: "a"})
	foreignRefresh, _ := auth.NewKeys("some-other-key-0123456789").Sign(auth.Claims{UserName: "icyfenix", Scope: []string{"BROWSER"}, Exp: time.Now().Add(time.Hour).Unix(), JTI: "r", ClientID: "bookstore_frontend", ATI: "a"})
	ghostRefresh, _ := s.Keys.Sign(auth.Claims{UserName: "ghost", Scope: []string{"BROWSER"}, Exp: time.Now().Add(time.Hour).Unix(), JTI: "r", ClientID: "bookstore_frontend", ATI: "a"})
	withRefresh := func(tok string) tokenRequest { r := frontend("refresh_token"); r.refreshToken = tok; return r }

	for _, tc := range []struct {
		name   string
		req    tokenRequest
		status int
		code   string
		desc   string
	}{
		{"no client", tokenRequest{grantType: "password"}, 401, "invalid_client", "Bad client credentials"},
		{"unknown client", tokenRequest{grantType: "password", clientID: "mallory", clientSecret: "x"}, 401, "invalid_client", "Bad client credentials"},
		{"wrong secret", tokenRequest{grantType: "password", clientID: "bookstore_frontend", clientSecret: "nope"}, 401, "invalid_client", "Bad client credentials"},
		{"empty secret", tokenRequest{grantType: "password", clientID: "bookstore_frontend"}, 401, "invalid_client", "Bad client credentials"},
		{"Basic client differs from client_id", tokenRequest{grantType: "client_credentials", clientID: "payment", clientSecret: "payment_secret", basic: true, paramClient: "account"},
			401, "invalid_client", "Given client ID does not match authenticated client"},
		{"scope not granted", tokenRequest{grantType: "password", clientID: "bookstore_frontend", clientSecret: "bookstore_secret", scope: []string{"SERVICE"}, scopeGiven: true},
			400, "invalid_scope", "Invalid scope: SERVICE"},
		{"missing grant type", frontend(""), 400, "invalid_request", "Missing grant type"},
		{"unsupported grant", frontend("magic"), 400, "unsupported_grant_type", "Unsupported grant type: magic"},
		{"authorization code is not offered", frontend("authorization_code"), 400, "unsupported_grant_type", "Unsupported grant type: authorization_code"},
		{"frontend cannot use client_credentials", frontend("client_credentials"), 400, "invalid_client", "Unauthorized grant type: client_credentials"},
		{"service cannot use password", tokenRequest{grantType: "password", clientID: "payment", clientSecret: "payment_secret", username: "icyfenix", password: "x"},
			400, "invalid_client", "Unauthorized grant type: password"},
		{"wrong password", login("icyfenix", "123456"), 400, "invalid_grant", "Bad credentials"},
		{"unknown user", login("nobody", "x"), 400, "invalid_grant", "Bad credentials"},
		{"missing username", login("", "x"), 400, "invalid_grant", "Bad credentials"},
		{"missing password", login("icyfenix", ""), 400, "invalid_grant", "Bad credentials"},
		{"missing refresh token", frontend("refresh_token"), 400, "invalid_grant", "Invalid refresh token"},
		{"garbage refresh token", withRefresh("abc.def.ghi"), 400, "invalid_grant", "Invalid refresh token"},
		{"access token as refresh token", withRefresh(accessOnly), 400, "invalid_grant", "Invalid refresh token"},
		{"expired refresh token", withRefresh(expiredRefresh), 400, "invalid_grant", "Invalid refresh token"},
		{"refresh token of another key", withRefresh(foreignRefresh), 400, "invalid_grant", "Invalid refresh token"},
		{"refresh for a deleted user", withRefresh(ghostRefresh), 400, "invalid_grant", "Invalid refresh token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.grant(ctx, tc.req)
			oauthErr(t, err, tc.status, tc.code, tc.desc)
		})
	}
	// Passwords are looked up in lower case, as the original does.
	if _, err := s.grant(ctx, login("IcyFenix", "MFfTW3uNI4eqhwDkG7HP9p2mzEUu/r2")); err != nil {
		t.Fatalf("mixed-case login: %v", err)
	}

	f.err = kerrors.ErrGetConnection.WithCause(errors.New("connection refused"))
	_, err = s.grant(ctx, login("icyfenix", "MFfTW3uNI4eqhwDkG7HP9p2mzEUu/r2"))
	oauthErr(t, err, 503, "temporarily_unavailable", "account 服务暂不可用")
}

// claimsOf returns a JWT's payload keys in order and its decoded claims.
func claimsOf(t *testing.T, jwt string) ([]string, map[string]any) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || string(header) != `{"alg":"HS256","typ":"JWT"}` {
		t.Fatalf("header %s %v", header, err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return keysOf(t, payload), decodeMap(t, payload)
}

func decodeMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// keysOf lists the top-level keys of a JSON object in order.
func keysOf(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestPasswordGrantTokens(t *testing.T) {
	s, f := newServer()
	resp, err := s.grant(context.Background(), login("icyfenix", "MFfTW3uNI4eqhwDkG7HP9p2mzEUu/r2"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(t, body); !slices.Equal(got, []string{"access_token", "token_type", "refresh_token", "expires_in", "scope", "authorities", "username", "jti"}) {
		t.Fatalf("response keys %v", got)
	}
	if resp.TokenType != "bearer" || resp.ExpiresIn != 10799 || resp.Scope != "BROWSER" || resp.Username != "icyfenix" ||
		!slices.Equal(resp.Authorities, []string{"ROLE_USER", "ROLE_ADMIN"}) || !uuidRE.MatchString(resp.JTI) {
		t.Fatalf("response %s", body)
	}
	if f.calls[0] != "VerifyCredentials icyfenix" {
		t.Fatalf("calls %v", f.calls)
	}

	keys, access := claimsOf(t, resp.AccessToken)
	if !slices.Equal(keys, []string{"user_name", "scope", "exp", "authorities", "jti", "client_id", "username", "account_id"}) {
		t.Fatalf("access token claims %v", keys)
	}
	want := map[string]any{
		"user_name": "icyfenix", "scope": []any{"BROWSER"}, "exp": float64(issuedAt.Add(3 * time.Hour).Unix()),
		"authorities": []any{"ROLE_USER", "ROLE_ADMIN"}, "jti": resp.JTI, "client_id": "bookstore_frontend",
		"username": "icyfenix", "account_id": float64(1),
	}
	assertClaims(t, access, want)

	keys, refresh := claimsOf(t, resp.RefreshToken)
	if !slices.Equal(keys, []string{"user_name", "scope", "exp", "authorities", "jti", "client_id", "username", "account_id", "ati"}) {
		t.Fatalf("refresh token claims %v", keys)
	}
	want["exp"] = float64(issuedAt.Add(15 * 24 * time.Hour).Unix())
	want["ati"] = resp.JTI
	want["jti"] = refresh["jti"]
	assertClaims(t, refresh, want)
	if refresh["jti"] == resp.JTI || !uuidRE.MatchString(refresh["jti"].(string)) {
		t.Fatalf("refresh jti %v must be its own uuid", refresh["jti"])
	}

	// The refresh grant reuses the refresh token and mints a new access token.
	s.Now = func() time.Time { return issuedAt.Add(time.Hour) }
	again, err := s.grant(context.Background(), tokenRequest{grantType: "refresh_token", clientID: "bookstore_frontend",
		clientSecret: "bookstore_secret", refreshToken: resp.RefreshToken})
	if err != nil {
		t.Fatal(err)
	}
	if again.RefreshToken != resp.RefreshToken || again.AccessToken == resp.AccessToken || again.JTI == resp.JTI ||
		again.Username != "icyfenix" || again.ExpiresIn != 10799 {
		t.Fatalf("refresh answer %+v", again)
	}
	_, renewed := claimsOf(t, again.AccessToken)
	if renewed["exp"] != float64(issuedAt.Add(4*time.Hour).Unix()) || renewed["account_id"] != float64(1) || renewed["jti"] != again.JTI {
		t.Fatalf("renewed claims %v", renewed)
	}
	if f.calls[len(f.calls)-1] != "GetAccount icyfenix" {
		t.Fatalf("refresh must re-read the account: %v", f.calls)
	}
	// An issued token verifies with the shared key, as services check it.
	if c, err := s.Keys.Verify(again.AccessToken); err != nil || c.AccountID != 1 {
		t.Fatalf("verify: %+v %v", c, err)
	}
}

func TestClientCredentialsTokens(t *testing.T) {
	s, f := newServer()
	resp, err := s.grant(context.Background(), tokenRequest{grantType: "client_credentials", clientID: "warehouse", clientSecret: "warehouse_secret"})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(resp)
	if got := keysOf(t, body); !slices.Equal(got, []string{"access_token", "token_type", "expires_in", "scope", "jti"}) {
		t.Fatalf("response keys %v: %s", got, body)
	}
	if resp.Scope != "SERVICE" || resp.ExpiresIn != 10799 {
		t.Fatalf("response %s", body)
	}
	keys, claims := claimsOf(t, resp.AccessToken)
	if !slices.Equal(keys, []string{"scope", "exp", "jti", "client_id"}) {
		t.Fatalf("claims %v", keys)
	}
	assertClaims(t, claims, map[string]any{"scope": []any{"SERVICE"}, "exp": float64(issuedAt.Add(3 * time.Hour).Unix()),
		"jti": resp.JTI, "client_id": "warehouse"})
	if len(f.calls) != 0 {
		t.Fatalf("client credentials need no account call: %v", f.calls)
	}
}

func assertClaims(t *testing.T, got, want map[string]any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Fatalf("claims\ngot  %s\nwant %s", g, w)
	}
}

func TestHandle(t *testing.T) {
	s, _ := newServer()
	serve := func(method, uri, contentType, body, authorization string) *app.RequestContext {
		c := app.NewContext(0)
		c.Request.SetMethod(method)
		c.Request.SetRequestURI(uri)
		if contentType != "" {
			c.Request.Header.SetContentTypeBytes([]byte(contentType))
		}
		if body != "" {
			c.Request.SetBody([]byte(body))
		}
		if authorization != "" {
			c.Request.Header.Set("Authorization", authorization)
		}
		s.Handle(context.Background(), c)
		return c
	}
	check := func(c *app.RequestContext, status int, bodyPrefix string) {
		t.Helper()
		if got := c.Response.StatusCode(); got != status || !strings.HasPrefix(string(c.Response.Body()), bodyPrefix) {
			t.Fatalf("got %d %s, want %d %s...", got, c.Response.Body(), status, bodyPrefix)
		}
		if string(c.Response.Header.Peek("Cache-Control")) != "no-store" || string(c.Response.Header.Peek("Pragma")) != "no-cache" {
			t.Fatalf("cache headers missing: %s", c.Response.Header.Header())
		}
	}

	c := serve("GET", "/oauth/token?username=icyfenix&password=MFfTW3uNI4eqhwDkG7HP9p2mzEUu%2Fr2&grant_type=password&client_id=bookstore_frontend&client_secret=bookstore_secret", "", "", "")
	check(c, 200, `{"access_token":"`)
	if !regexp.MustCompile(`^\{"access_token":"[^"]+","token_type":"bearer","refresh_token":"[^"]+","expires_in":10799,"scope":"BROWSER",` +
		`"authorities":\["ROLE_USER","ROLE_ADMIN"\],"username":"icyfenix","jti":"[0-9a-f-]{36}"\}$`).Match(c.Response.Body()) {
		t.Fatalf("answer %s", c.Response.Body())
	}

	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("account:account_secret"))
	c = serve("POST", "/oauth/token", "application/x-www-form-urlencoded", "grant_type=client_credentials", basic)
	check(c, 200, `{"access_token":"`)

	c = serve("POST", "/oauth/token", "application/x-www-form-urlencoded", "grant_type=client_credentials&client_id=account&client_secret=wrong", "")
	check(c, 401, `{"error":"invalid_client","error_description":"Bad client credentials"}`)
	if got := string(c.Response.Header.Peek("WWW-Authenticate")); !strings.HasPrefix(got, "Basic ") {
		t.Fatalf("WWW-Authenticate %q", got)
	}

	c = serve("GET", "/oauth/token?grant_type=%zz", "", "", "")
	check(c, 400, `{"error":"invalid_request","error_description":"Malformed request parameters"}`)

	s.MaxBody = 8
	c = serve("POST", "/oauth/token", "application/x-www-form-urlencoded", "grant_type=client_credentials&client_id=account", "")
	check(c, 400, `{"error":"invalid_request","error_description":"Request body too large"}`)
	s.MaxBody = 1 << 20

	// An unexpected failure keeps the OAuth body shape and says nothing more.
	c = serve("GET", "/oauth/token?username=broken&password=x&grant_type=password&client_id=bookstore_frontend&client_secret=bookstore_secret", "", "", "")
	check(c, 500, `{"error":"server_error","error_description":"Internal Server Error"}`)
}
