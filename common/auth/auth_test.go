package auth

import (
	"context"
	"errors"
	"strings"
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
