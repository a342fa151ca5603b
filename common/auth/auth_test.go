package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

const contractKey = "601304E0-8AD4-40B0-BD51-0B432DC47461"

// legacyClaims are the claims of the original Fenix system's tokens (contract
// §3.4): no account_id, expiry far in the future.
var legacyClaims = Claims{
	UserName:    "icyfenix",
	Scope:       []string{"BROWSER"},
	Exp:         3164262430,
	Authorities: []string{RoleUser, RoleAdmin},
	JTI:         "6f1ba8e0-0000-4000-8000-000000000000",
	ClientID:    "bookstore_frontend",
	Username:    "icyfenix",
}

func TestSignVerifyRoundTrip(t *testing.T) {
	keys := NewKeys(contractKey)
	raw, err := keys.Sign(legacyClaims)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.") {
		t.Errorf("header is not {alg:HS256,typ:JWT}: %s", raw)
	}
	got, err := keys.Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	p := PrincipalOf(got)
	if p.Username != "icyfenix" || !p.IsAdmin() || !p.IsUser() || !p.HasScope(ScopeBrowser) || p.AccountID != 0 {
		t.Errorf("principal = %+v", p)
	}
}

func TestVerifyRejects(t *testing.T) {
	keys := NewKeys(contractKey)
	expired := legacyClaims
	expired.Exp = time.Now().Add(-time.Minute).Unix()
	expiredRaw, _ := keys.Sign(expired)
	otherRaw, _ := NewKeys("another-key-of-sixteen+").Sign(legacyClaims)
	good, _ := keys.Sign(legacyClaims)
	noneAlg := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + strings.Split(good, ".")[1] + "."
	noExp := legacyClaims
	noExp.Exp = 0
	noExpRaw, _ := keys.Sign(noExp)
	// The good token verified first, so that a token close to it meets a
	// warm cache of verified tokens.
	if _, err := keys.Verify(good); err != nil {
		t.Fatal(err)
	}

	for name, raw := range map[string]string{
		"expired":   expiredRaw,
		"other key": otherRaw,
		"alg none":  noneAlg,
		"garbage":   "not-a-jwt",
		"empty":     "",
		"tampered":  good[:len(good)-2] + "xx",
		"no expiry": noExpRaw,
	} {
		if _, err := keys.Verify(raw); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: err = %v, want ErrInvalidToken", name, err)
		}
	}
}

func TestRolesFor(t *testing.T) {
	if p := (Principal{Username: "a", Authorities: RolesFor(1)}); !p.IsAdmin() {
		t.Error("account 1 must be admin")
	}
	if p := (Principal{Username: "b", Authorities: RolesFor(2)}); p.IsAdmin() || !p.IsUser() {
		t.Error("account 2 must be a plain user")
	}
}

func TestServiceTokensRenew(t *testing.T) {
	keys := NewKeys(contractKey)
	st := NewServiceTokens(keys, "payment", 2*time.Second)
	ctx, err := st.Context(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	first := st.token
	if _, err := st.Context(ctx); err != nil || st.token != first {
		t.Fatalf("token re-minted before half-life")
	}
	c, err := keys.Verify(first)
	if err != nil {
		t.Fatal(err)
	}
	if p := PrincipalOf(c); !p.HasScope(ScopeService) || p.ClientID != "payment" || p.IsUser() {
		t.Errorf("service principal = %+v", p)
	}
	st.renewAt = time.Now().Add(-time.Second)
	if _, err := st.Context(ctx); err != nil || st.token == first {
		t.Fatalf("token not renewed after half-life")
	}
}

// TestVerifyRemembersUntilExpiry: a token verified once is answered from
// memory, until exactly its expiry, and what a caller does with the claims
// it got does not change what the next caller gets.
func TestVerifyRemembersUntilExpiry(t *testing.T) {
	keys := NewKeys(contractKey)
	now := time.Unix(2_000_000_000, 0)
	keys.now = func() time.Time { return now }
	c := legacyClaims
	c.Exp = now.Add(time.Minute).Unix()
	raw, err := keys.Sign(c)
	if err != nil {
		t.Fatal(err)
	}

	first, err := keys.Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := keys.verified.get(raw, now); !ok {
		t.Fatal("a verified token was not remembered")
	}
	first.Authorities[0] = "ROLE_FORGED"
	first.Scope = append(first.Scope[:0], "SERVICE")
	again, err := keys.Verify(raw)
	if err != nil || again.Authorities[0] != RoleUser || again.Scope[0] != ScopeBrowser {
		t.Fatalf("second verify = %+v, %v; want the original claims", again, err)
	}

	now = now.Add(time.Minute - time.Second)
	if _, err := keys.Verify(raw); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	now = now.Add(time.Second)
	if _, err := keys.Verify(raw); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("at expiry: err = %v, want ErrInvalidToken", err)
	}
}

// TestVerifiedTokensBounded: however many distinct tokens arrive, the
// memory of verified ones stays bounded, and tokens still verify.
func TestVerifiedTokensBounded(t *testing.T) {
	keys := NewKeys(contractKey)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range maxVerifiedTokens/2 + 10 {
				c := legacyClaims
				c.JTI = fmt.Sprintf("%d-%d", w, i)
				raw, err := keys.Sign(c)
				if err == nil {
					_, err = keys.Verify(raw)
				}
				if err == nil {
					_, err = keys.Verify(raw) // from memory, or verified again after a purge
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	keys.verified.mu.RLock()
	n := len(keys.verified.claims)
	keys.verified.mu.RUnlock()
	if n == 0 || n > maxVerifiedTokens {
		t.Errorf("%d tokens remembered, want 1..%d", n, maxVerifiedTokens)
	}
}
