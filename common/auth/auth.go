// Package auth is the store's identity: the JWTs of the Fenix contract
// (HS256, Spring Security OAuth2 claim names), the Principal they name, and
// its propagation across Kitex calls.
//
// The gateway verifies a caller's token once and forwards the raw token in
// Kitex metainfo; every service verifies it again in a server middleware
// (ServerMiddleware) and enforces its own rules on the Principal it finds in
// the context. Nothing downstream trusts an identity it cannot verify, except
// the account id of a legacy token (see MetaAccountID).
package auth

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Roles and scopes of the contract (§2.4).
const (
	RoleUser  = "ROLE_USER"
	RoleAdmin = "ROLE_ADMIN"

	ScopeBrowser = "BROWSER"
	ScopeService = "SERVICE"
)

// AdminAccountID is the account that holds ROLE_ADMIN: the original system
// has no user management and makes its first user the administrator.
const AdminAccountID = 1

// RolesFor returns the authorities of an account, as the contract assigns them.
func RolesFor(accountID int64) []string {
	if accountID == AdminAccountID {
		return []string{RoleUser, RoleAdmin}
	}
	return []string{RoleUser}
}

// Config is the [auth] section of a service's config. The key comes from a
// Secret in Kubernetes (env AUTH_JWT_KEY); the local default is the
// contract's key, so tokens minted by the original system verify here too.
type Config struct {
	JWTKey string `mapstructure:"jwt_key" validate:"required,min=16"`
}

// Claims are the JWT claims of the contract (§3.4). The names are Spring
// Security OAuth2's; AccountID is ours (absent from legacy tokens).
type Claims struct {
	UserName    string   `json:"user_name,omitempty"`
	Scope       []string `json:"scope"`
	Exp         int64    `json:"exp"`
	Authorities []string `json:"authorities,omitempty"`
	JTI         string   `json:"jti"`
	ClientID    string   `json:"client_id"`
	Username    string   `json:"username,omitempty"`
	AccountID   int64    `json:"account_id,omitempty"`
	// ATI is set on refresh tokens only: the jti of their access token.
	ATI string `json:"ati,omitempty"`
}

// The methods below make Claims a jwt.Claims; only exp is validated.

func (c Claims) GetExpirationTime() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.Exp, 0)), nil
}
func (c Claims) GetIssuedAt() (*jwt.NumericDate, error)  { return nil, nil }
func (c Claims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (c Claims) GetIssuer() (string, error)              { return "", nil }
func (c Claims) GetSubject() (string, error)             { return "", nil }
func (c Claims) GetAudience() (jwt.ClaimStrings, error)  { return nil, nil }

// IsRefresh reports whether the claims are those of a refresh token.
func (c Claims) IsRefresh() bool { return c.ATI != "" }

// Principal is the verified caller of a request.
type Principal struct {
	Username    string // empty for service clients
	AccountID   int64  // 0 when unknown (service clients)
	Authorities []string
	Scopes      []string
	ClientID    string
}

// IsUser reports whether the principal is a logged-in user.
func (p Principal) IsUser() bool { return p.Username != "" && p.HasRole(RoleUser) }

// IsAdmin reports whether the principal is the administrator.
func (p Principal) IsAdmin() bool { return p.HasRole(RoleAdmin) }

// HasRole reports whether the principal holds the authority.
func (p Principal) HasRole(role string) bool { return slices.Contains(p.Authorities, role) }

// HasScope reports whether the token was granted the scope.
func (p Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

// PrincipalOf returns the principal named by verified claims. A user's
// authorities follow from its account (contract §2.4: they come from the
// account, not the token) once the account id is known; until then (a
// legacy token, see MetaAccountID) the token's claim stands in.
func PrincipalOf(c Claims) Principal {
	name := c.UserName
	if name == "" {
		name = c.Username
	}
	p := Principal{
		Username:    name,
		Authorities: c.Authorities,
		Scopes:      c.Scope,
		ClientID:    c.ClientID,
	}
	p.SetAccountID(c.AccountID)
	return p
}

// SetAccountID records the user's account id and the roles it carries.
func (p *Principal) SetAccountID(id int64) {
	if id == 0 || p.Username == "" {
		return
	}
	p.AccountID = id
	p.Authorities = RolesFor(id)
}

// ErrInvalidToken is returned for a token that is malformed, badly signed or expired.
var ErrInvalidToken = errors.New("invalid token")

// Keys signs and verifies tokens with the shared HS256 key.
type Keys struct {
	key      []byte
	parser   *jwt.Parser
	now      func() time.Time
	verified verifiedTokens
}

// NewKeys returns Keys for the HMAC key (its bytes as written in config).
func NewKeys(key string) *Keys {
	k := &Keys{key: []byte(key), now: time.Now}
	k.parser = jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(func() time.Time { return k.now() }))
	return k
}

// Sign returns the compact JWT of the claims.
func (k *Keys) Sign(c Claims) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(k.key)
}

// Verify checks the signature and expiry of raw and returns its claims.
//
// A token that verified once is remembered until it expires: a user's
// token comes back with every request, and every service on the way
// verifies it (see the package comment); the HMAC and the JSON decoding
// were 15% of the gateway's CPU and 5% of payment's in make bench's
// settle-and-pay flow. Only the exact bytes of a token that passed the
// whole check are remembered, so a hit is as good as a check; its expiry
// is checked again on every hit.
func (k *Keys) Verify(raw string) (Claims, error) {
	now := k.now()
	if c, ok := k.verified.get(raw, now); ok {
		return c, nil
	}
	var c Claims
	_, err := k.parser.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return k.key, nil })
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	k.verified.put(raw, c, now)
	return c, nil
}

// maxVerifiedTokens bounds the memory of verifiedTokens (a token and its
// claims take well under 2 KiB): more than the tokens of the users one
// replica serves within a token's lifetime would only be verified again.
const maxVerifiedTokens = 4096

// verifiedTokens remembers tokens that verified, with their claims.
type verifiedTokens struct {
	mu     sync.RWMutex
	claims map[string]Claims
}

// get returns the claims of raw if it verified before and has not expired
// at now (jwt's rule: valid strictly before exp). The slices are copies:
// the claims are shared by every request that presents the token.
func (v *verifiedTokens) get(raw string, now time.Time) (Claims, bool) {
	v.mu.RLock()
	c, ok := v.claims[raw]
	v.mu.RUnlock()
	if !ok || !now.Before(time.Unix(c.Exp, 0)) {
		return Claims{}, false
	}
	c.Scope, c.Authorities = slices.Clone(c.Scope), slices.Clone(c.Authorities)
	return c, true
}

// put remembers raw. A full cache first drops the expired tokens, and if
// that frees nothing, everything: entries are cheap to verify again, and
// the bound must hold whatever callers send.
func (v *verifiedTokens) put(raw string, c Claims, now time.Time) {
	c.Scope, c.Authorities = slices.Clone(c.Scope), slices.Clone(c.Authorities)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.claims == nil {
		v.claims = make(map[string]Claims)
	}
	if len(v.claims) >= maxVerifiedTokens {
		for t, old := range v.claims {
			if !now.Before(time.Unix(old.Exp, 0)) {
				delete(v.claims, t)
			}
		}
		if len(v.claims) >= maxVerifiedTokens {
			clear(v.claims)
		}
	}
	v.claims[raw] = c
}
