// Package oauth is the token endpoint of contract §3 (GET or POST
// /oauth/token): Spring Security OAuth2's password, refresh_token and
// client_credentials grants, its JSON answers and its error table.
//
// Passwords are checked by the account service (VerifyCredentials); they
// never reach the gateway's memory beyond the request that carries them.
package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/kitex/client/callopt"
	"github.com/google/uuid"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/gateway/internal/config"
	"example.com/bookstore/gateway/internal/decode"
	"example.com/bookstore/gateway/internal/httperr"
	"example.com/bookstore/idl/kitex_gen/account"
)

// Grant types of the contract.
const (
	GrantPassword          = "password"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// FrontendClient is the browser's client id.
const FrontendClient = "bookstore_frontend"

// Client is a registered OAuth client.
type Client struct {
	Secret string
	Grants []string
	Scopes []string
}

// ClientsOf returns the contract's clients (§3.2) with secrets from config.
func ClientsOf(c config.OAuthClients) map[string]Client {
	svc := func(secret string) Client {
		return Client{Secret: secret, Grants: []string{GrantClientCredentials}, Scopes: []string{auth.ScopeService}}
	}
	return map[string]Client{
		FrontendClient: {Secret: c.BookstoreFrontend, Grants: []string{GrantPassword, GrantRefreshToken}, Scopes: []string{auth.ScopeBrowser}},
		"account":      svc(c.Account),
		"warehouse":    svc(c.Warehouse),
		"payment":      svc(c.Payment),
		"security":     svc(c.Security),
	}
}

// Accounts is what the token endpoint needs of the account service.
type Accounts interface {
	VerifyCredentials(ctx context.Context, req *account.VerifyCredentialsRequest, opts ...callopt.Option) (*account.Principal, error)
	GetAccount(ctx context.Context, req *account.GetAccountRequest, opts ...callopt.Option) (*account.Account, error)
}

// Server issues tokens.
type Server struct {
	Keys       *auth.Keys
	Clients    map[string]Client
	Accounts   Accounts
	Service    *auth.ServiceTokens // the gateway's own token for account calls
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	MaxBody    int
	// CallOpts supplies per-call options of account calls (may be nil).
	CallOpts func() []callopt.Option
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Response is the token endpoint's answer (§3.4), in the frontend mock's
// key order. The refresh token, authorities and username are absent for
// client_credentials.
type Response struct {
	AccessToken  string   `json:"access_token"`
	TokenType    string   `json:"token_type"`
	RefreshToken string   `json:"refresh_token,omitempty"`
	ExpiresIn    int64    `json:"expires_in"`
	Scope        string   `json:"scope"`
	Authorities  []string `json:"authorities,omitempty"`
	Username     string   `json:"username,omitempty"`
	JTI          string   `json:"jti"`
}

// Handle serves /oauth/token.
func (s *Server) Handle(ctx context.Context, c *app.RequestContext) {
	// Spring sends these on every token endpoint answer, errors included.
	c.Response.Header.Set("Cache-Control", "no-store")
	c.Response.Header.Set("Pragma", "no-cache")

	resp, err := s.token(ctx, c)
	if err != nil {
		var e *httperr.Error
		if !errors.As(err, &e) {
			// Unexpected failures keep the token endpoint's body shape.
			e = httperr.OAuthError(http.StatusInternalServerError, "server_error", "Internal Server Error")
			e.Cause = err
		}
		httperr.Respond(ctx, c, e)
		return
	}
	httperr.JSON(ctx, c, http.StatusOK, resp)
}

var errBadParams = httperr.OAuthError(http.StatusBadRequest, "invalid_request", "Malformed request parameters")

func badClient() *httperr.Error {
	e := httperr.OAuthError(http.StatusUnauthorized, "invalid_client", "Bad client credentials")
	e.Header = map[string]string{"WWW-Authenticate": `Basic realm="oauth2/client"`}
	return e
}

func (s *Server) token(ctx context.Context, c *app.RequestContext) (*Response, error) {
	var body []byte
	if string(c.Method()) == http.MethodPost {
		b, err := decode.Body(c, s.MaxBody)
		if err != nil {
			return nil, httperr.OAuthError(http.StatusBadRequest, "invalid_request", "Request body too large")
		}
		body = b
	}
	req, err := parseRequest(string(c.Method()), string(c.URI().QueryString()),
		string(c.ContentType()), body, string(c.GetHeader("Authorization")))
	if err != nil {
		return nil, err
	}
	return s.grant(ctx, req)
}

// grant checks a parsed request in Spring's order (client, client id,
// scope, grant type) and issues the tokens.
func (s *Server) grant(ctx context.Context, req tokenRequest) (*Response, error) {
	client, ok := s.Clients[req.clientID]
	if req.clientID == "" || !ok || subtle.ConstantTimeCompare([]byte(client.Secret), []byte(req.clientSecret)) != 1 {
		return nil, badClient()
	}
	if req.basic && req.paramClient != "" && req.paramClient != req.clientID {
		return nil, httperr.OAuthError(http.StatusUnauthorized, "invalid_client", "Given client ID does not match authenticated client")
	}
	for _, sc := range req.scope {
		if !slices.Contains(client.Scopes, sc) {
			return nil, httperr.OAuthError(http.StatusBadRequest, "invalid_scope", "Invalid scope: "+strings.Join(req.scope, " "))
		}
	}
	scopes := client.Scopes
	if req.scopeGiven {
		scopes = req.scope
	}
	switch req.grantType {
	case "":
		return nil, httperr.OAuthError(http.StatusBadRequest, "invalid_request", "Missing grant type")
	case GrantPassword, GrantRefreshToken, GrantClientCredentials:
	default:
		return nil, httperr.OAuthError(http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type: "+req.grantType)
	}
	if !slices.Contains(client.Grants, req.grantType) {
		return nil, httperr.OAuthError(http.StatusBadRequest, "invalid_client", "Unauthorized grant type: "+req.grantType)
	}
	switch req.grantType {
	case GrantPassword:
		return s.password(ctx, req, scopes)
	case GrantRefreshToken:
		return s.refresh(ctx, req)
	default:
		return s.issue(req.clientID, scopes, nil, "")
	}
}

// user is the resource owner a token is issued for.
type user struct {
	id          int64
	name        string
	authorities []string
}

const msgBadCredentials = "Bad credentials"

func (s *Server) password(ctx context.Context, req tokenRequest, scopes []string) (*Response, error) {
	if req.username == "" || req.password == "" {
		return nil, httperr.OAuthError(http.StatusBadRequest, "invalid_grant", msgBadCredentials)
	}
	sctx, err := s.Service.Context(ctx)
	if err != nil {
		return nil, err
	}
	// The original lowercases the name before the lookup.
	p, err := s.Accounts.VerifyCredentials(sctx, &account.VerifyCredentialsRequest{
		Username: strings.ToLower(req.username),
		Password: req.password,
	}, s.callOpts()...)
	if err != nil {
		return nil, httperr.OAuthFromRPC(err, "account", msgBadCredentials)
	}
	if p == nil || p.GetUsername() == "" || p.GetAccountId() == 0 {
		return nil, errors.New("oauth: account service returned an empty principal")
	}
	return s.issue(req.clientID, scopes, &user{id: p.GetAccountId(), name: p.GetUsername(), authorities: p.GetRoles()}, "")
}

const msgBadRefresh = "Invalid refresh token"

// refresh issues a new access token for a refresh token and answers with
// the same refresh token (the contract's reuseRefreshToken). The account is
// read again so that a deleted user cannot go on refreshing.
func (s *Server) refresh(ctx context.Context, req tokenRequest) (*Response, error) {
	badGrant := httperr.OAuthError(http.StatusBadRequest, "invalid_grant", msgBadRefresh)
	if req.refreshToken == "" {
		return nil, badGrant
	}
	claims, err := s.Keys.Verify(req.refreshToken)
	if err != nil || !claims.IsRefresh() {
		return nil, badGrant
	}
	if claims.ClientID != req.clientID {
		return nil, httperr.OAuthError(http.StatusBadRequest, "invalid_grant", "Wrong client for this refresh token")
	}
	scopes := claims.Scope
	if req.scopeGiven {
		for _, sc := range req.scope {
			if !slices.Contains(claims.Scope, sc) {
				return nil, httperr.OAuthError(http.StatusBadRequest, "invalid_scope",
					"Unable to narrow the scope of the client authentication to "+strings.Join(req.scope, " "))
			}
		}
		scopes = req.scope
	}
	name := auth.PrincipalOf(claims).Username
	if name == "" {
		return nil, badGrant
	}
	sctx, err := s.Service.Context(ctx)
	if err != nil {
		return nil, err
	}
	acc, err := s.Accounts.GetAccount(sctx, &account.GetAccountRequest{Username: name}, s.callOpts()...)
	if err != nil {
		return nil, httperr.OAuthFromRPC(err, "account", msgBadRefresh)
	}
	if acc == nil || acc.GetId() == 0 {
		return nil, errors.New("oauth: account service returned an empty account")
	}
	return s.issue(req.clientID, scopes, &user{id: acc.GetId(), name: acc.GetUsername(), authorities: auth.RolesFor(acc.GetId())}, req.refreshToken)
}

// issue signs an access token and, for a user, a refresh token (or reuses
// the given one). Every token gets a fresh jti.
func (s *Server) issue(clientID string, scopes []string, u *user, reuseRefresh string) (*Response, error) {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	exp := now.Add(s.AccessTTL)
	access := auth.Claims{
		Scope:    scopes,
		Exp:      exp.Unix(),
		JTI:      uuid.NewString(),
		ClientID: clientID,
	}
	if u != nil {
		access.UserName, access.Username = u.name, u.name
		access.Authorities = u.authorities
		access.AccountID = u.id
	}
	accessJWT, err := s.Keys.Sign(access)
	if err != nil {
		return nil, err
	}
	resp := &Response{
		AccessToken: accessJWT,
		TokenType:   "bearer",
		// Seconds left, rounded down: 10799 for a fresh 3-hour token, as
		// Spring computes it a moment after issuing.
		ExpiresIn: int64((exp.Sub(now) - time.Millisecond) / time.Second),
		Scope:     strings.Join(scopes, " "),
		JTI:       access.JTI,
	}
	if u == nil {
		return resp, nil
	}
	resp.Authorities, resp.Username = u.authorities, u.name
	resp.RefreshToken = reuseRefresh
	if resp.RefreshToken == "" {
		refresh := access
		refresh.JTI = uuid.NewString()
		refresh.ATI = access.JTI
		refresh.Exp = now.Add(s.RefreshTTL).Unix()
		if resp.RefreshToken, err = s.Keys.Sign(refresh); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

func (s *Server) callOpts() []callopt.Option {
	if s.CallOpts == nil {
		return nil
	}
	return s.CallOpts()
}
