package auth

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/bytedance/gopkg/cloud/metainfo"
	"github.com/cloudwego/kitex/pkg/endpoint"
	"github.com/cloudwego/kitex/pkg/kerrors"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
	"github.com/google/uuid"

	"example.com/bookstore/common/rpcerr"
)

// Metainfo keys. They travel one hop (transient values): each caller states
// its own identity to the service it calls.
const (
	MetaToken = "BOOKSTORE_TOKEN"
	// MetaAccountID carries the caller's account id when its token predates
	// the account_id claim (tokens minted by the original Fenix system name
	// the user only). The gateway resolves it through the account service.
	MetaAccountID = "BOOKSTORE_ACCOUNT_ID"
)

// WithToken returns ctx whose outgoing Kitex calls carry the raw token.
func WithToken(ctx context.Context, raw string) context.Context {
	return metainfo.WithValue(ctx, MetaToken, raw)
}

// WithAccountID returns ctx whose outgoing Kitex calls carry a resolved account id.
func WithAccountID(ctx context.Context, id int64) context.Context {
	return metainfo.WithValue(ctx, MetaAccountID, strconv.FormatInt(id, 10))
}

type principalKey struct{}

// NewContext returns ctx carrying the principal.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the verified principal of the request; ok is false for
// an anonymous caller.
func FromContext(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// ServerMiddleware verifies the token a caller sent in metainfo and puts its
// Principal into the context. A call without a token proceeds anonymously
// (handlers decide what anonymous callers may do); a call with a bad token is
// refused with UNAUTHENTICATED.
func ServerMiddleware(keys *Keys) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req, resp any) error {
			raw, ok := metainfo.GetValue(ctx, MetaToken)
			if !ok || raw == "" {
				return next(ctx, req, resp)
			}
			c, err := keys.Verify(raw)
			if err != nil {
				// Kitex turns only a handler's own errors into business
				// status errors; a middleware has to set it on the call.
				return rejectCall(ctx, rpcerr.New(rpcerr.Unauthenticated, "invalid_token"))
			}
			p := PrincipalOf(c)
			if p.AccountID == 0 && p.Username != "" {
				if s, ok := metainfo.GetValue(ctx, MetaAccountID); ok {
					id, _ := strconv.ParseInt(s, 10, 64)
					p.SetAccountID(id)
				}
			}
			return next(NewContext(ctx, p), req, resp)
		}
	}
}

// rejectCall ends a call with a business status error from a middleware.
func rejectCall(ctx context.Context, err error) error {
	var be kerrors.BizStatusErrorIface
	if ri := rpcinfo.GetRPCInfo(ctx); ri != nil && errors.As(err, &be) {
		if setter, ok := ri.Invocation().(rpcinfo.InvocationSetter); ok {
			setter.SetBizStatusErr(be)
			return nil
		}
	}
	return err
}

// ServiceTokens mints and caches the short-lived client_credentials token a
// service presents when it calls another service (scope SERVICE).
type ServiceTokens struct {
	keys     *Keys
	clientID string
	ttl      time.Duration

	mu      sync.Mutex
	token   string
	renewAt time.Time
}

// NewServiceTokens returns a token source for the named service client.
func NewServiceTokens(keys *Keys, clientID string, ttl time.Duration) *ServiceTokens {
	return &ServiceTokens{keys: keys, clientID: clientID, ttl: ttl}
}

// Context returns ctx whose outgoing calls carry this service's token.
func (s *ServiceTokens) Context(ctx context.Context) (context.Context, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.token == "" || now.After(s.renewAt) {
		tok, err := s.keys.Sign(Claims{
			Scope:    []string{ScopeService},
			Exp:      now.Add(s.ttl).Unix(),
			JTI:      uuid.NewString(),
			ClientID: s.clientID,
		})
		if err != nil {
			return ctx, err
		}
		// Renew at half-life so a token never expires in flight.
		s.token, s.renewAt = tok, now.Add(s.ttl/2)
	}
	return WithToken(ctx, s.token), nil
}
