package e2e

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"example.com/bookstore/common/auth"
)

// TestOAuthTokens drives /oauth/token with golang.org/x/oauth2 as the
// client: the password grant, then a refresh through its TokenSource.
func TestOAuthTokens(t *testing.T) {
	t.Parallel()
	s := startStack(t, nil)
	a := api{t, s.GatewayURL}
	keys := auth.NewKeys(jwtKey)

	conf := &oauth2.Config{
		ClientID:     "bookstore_frontend",
		ClientSecret: "bookstore_secret",
		Endpoint:     oauth2.Endpoint{TokenURL: s.GatewayURL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	ctx := context.Background()
	tok, err := conf.PasswordCredentialsToken(ctx, adminUser, adminWire)
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "bearer" || tok.RefreshToken == "" || tok.Extra("scope") != "BROWSER" ||
		tok.Extra("username") != adminUser || tok.Extra("jti") == nil {
		t.Errorf("token response = %+v, scope %v username %v", tok, tok.Extra("scope"), tok.Extra("username"))
	}
	if auths, _ := tok.Extra("authorities").([]any); len(auths) != 2 {
		t.Errorf("authorities = %v", tok.Extra("authorities"))
	}
	if left := time.Until(tok.Expiry); left < 3*time.Hour-time.Minute || left > 3*time.Hour {
		t.Errorf("access token lives %s, want 3h", left)
	}
	c, err := keys.Verify(tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if c.UserName != adminUser || c.Username != adminUser || c.ClientID != "bookstore_frontend" ||
		!slices.Equal(c.Scope, []string{"BROWSER"}) || !slices.Contains(c.Authorities, auth.RoleAdmin) ||
		c.JTI != tok.Extra("jti") || c.AccountID != 1 {
		t.Errorf("access claims = %+v", c)
	}
	rc, err := keys.Verify(tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if rc.ATI != c.JTI || rc.JTI == c.JTI || time.Until(time.Unix(rc.Exp, 0)) < 15*24*time.Hour-time.Hour {
		t.Errorf("refresh claims = %+v", rc)
	}
	// The token works on the API.
	if r := a.do("GET", "/restful/accounts/icyfenix", tok.AccessToken, nil); r.Status != http.StatusOK {
		t.Fatalf("with the new token: %d %s", r.Status, r.Body)
	}

	// Refresh: an expired token makes the TokenSource use the refresh grant.
	old := *tok
	old.Expiry = time.Now().Add(-time.Minute)
	fresh, err := conf.TokenSource(ctx, &old).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == tok.AccessToken {
		t.Error("refresh returned the same access token")
	}
	if fresh.RefreshToken != tok.RefreshToken {
		t.Error("refresh must reuse the refresh token (contract §3.4)")
	}
	if fc, err := keys.Verify(fresh.AccessToken); err != nil || fc.JTI == c.JTI {
		t.Errorf("refreshed access token: %v, jti reused: %v", err, fc.JTI == c.JTI)
	}

	// The error table of contract §3.5 (with its recommended fixes).
	tokenErr := func(q url.Values, status int, code, desc string) {
		t.Helper()
		r := a.do("GET", "/oauth/token?"+q.Encode(), "", nil)
		if r.Status != status {
			t.Errorf("%v: status %d, want %d (%s)", q, r.Status, status, r.Body)
			return
		}
		m := r.Map(t)
		if m["error"] != code || (desc != "" && !strings.Contains(m["error_description"].(string), desc)) {
			t.Errorf("%v: body %s, want %s %q", q, r.Body, code, desc)
		}
	}
	pw := func(user, pass, secret string) url.Values {
		return url.Values{"username": {user}, "password": {pass}, "grant_type": {"password"},
			"client_id": {"bookstore_frontend"}, "client_secret": {secret}}
	}
	tokenErr(pw(adminUser, "wrong", "bookstore_secret"), 400, "invalid_grant", "Bad credentials")
	tokenErr(pw("nobody", adminWire, "bookstore_secret"), 400, "invalid_grant", "Bad credentials")
	tokenErr(pw(adminUser, adminWire, "wrong_secret"), 401, "invalid_client", "Bad client credentials")
	tokenErr(url.Values{"client_id": {"bookstore_frontend"}, "client_secret": {"bookstore_secret"}}, 400, "invalid_request", "Missing grant type")
	tokenErr(url.Values{"grant_type": {"client_credentials"}, "client_id": {"bookstore_frontend"}, "client_secret": {"bookstore_secret"}}, 400, "invalid_client", "Unauthorized grant type")
	tokenErr(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"garbage"}, "client_id": {"bookstore_frontend"}, "client_secret": {"bookstore_secret"}}, 400, "invalid_grant", "")
	// An access token is no refresh token.
	tokenErr(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.AccessToken}, "client_id": {"bookstore_frontend"}, "client_secret": {"bookstore_secret"}}, 400, "invalid_grant", "")

	// Service clients: client_credentials, POSTed as a form.
	req, _ := http.NewRequest("POST", s.GatewayURL+"/oauth/token",
		strings.NewReader("grant_type=client_credentials&client_id=payment&client_secret=payment_secret"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r := readResponse(t, resp)
	if r.Status != 200 {
		t.Fatalf("client_credentials: %d %s", r.Status, r.Body)
	}
	m := r.Map(t)
	if m["scope"] != "SERVICE" || m["refresh_token"] != nil || m["username"] != nil {
		t.Errorf("client_credentials response = %v", m)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", r.Header.Get("Cache-Control"))
	}
}

// TestLegacyToken: a token minted by the original Fenix system (contract
// claims, same key, no account_id claim) works for every user route.
func TestLegacyToken(t *testing.T) {
	t.Parallel()
	s := startStack(t, nil)
	a := api{t, s.GatewayURL}
	legacy, err := auth.NewKeys(jwtKey).Sign(auth.Claims{
		UserName: "icyfenix", Scope: []string{"BROWSER"}, Exp: 3164262430,
		Authorities: []string{"ROLE_USER", "ROLE_ADMIN"}, JTI: "6f1ba8e0-legacy",
		ClientID: "bookstore_frontend", Username: "icyfenix",
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := a.do("GET", "/restful/accounts/icyfenix", legacy, nil); r.Status != http.StatusOK {
		t.Fatalf("account with a legacy token: %d %s", r.Status, r.Body)
	}
	pay := settle(t, a, legacy, 8, 1)
	if !strings.HasSuffix(pay["paymentLink"].(string), "&accountId=1") {
		t.Errorf("paymentLink = %v", pay["paymentLink"])
	}
	a.expectOK(a.do("PATCH", "/restful/pay/"+pay["payId"].(string)+"?state=PAYED", legacy, nil))
}

func readResponse(t *testing.T, resp *http.Response) response {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}
