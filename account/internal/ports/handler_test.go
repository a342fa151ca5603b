package ports

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"example.com/bookstore/account/internal/app"
	"example.com/bookstore/account/internal/domain"
	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/idl/kitex_gen/account"
)

func TestToRPCError(t *testing.T) {
	tests := []struct {
		err  error
		code rpcerr.Code
		msg  string
	}{
		{&domain.ValidationError{Violations: []string{"a", "b"}}, rpcerr.InvalidArgument, "a；b"},
		{fmt.Errorf("wrapped: %w", domain.ErrDuplicateAccount), rpcerr.Conflict, "用户名称、邮箱、手机号码均不允许与现存用户重复"},
		{domain.ErrConflictingAccount, rpcerr.Conflict, "用户名称、邮箱、手机号码与现存用户产生重复"},
		{domain.ErrNotFound, rpcerr.NotFound, "account not found"},
		{domain.ErrBadCredentials, rpcerr.Unauthenticated, "Bad credentials"},
		{domain.ErrAccessDenied, rpcerr.PermissionDenied, "Access is denied"},
	}
	for _, tc := range tests {
		code, msg, ok := rpcerr.From(toRPCError(context.Background(), "Test", tc.err))
		if !ok || code != tc.code || msg != tc.msg {
			t.Errorf("toRPCError(%v) = %v %q (typed %v), want %v %q", tc.err, code, msg, ok, tc.code, tc.msg)
		}
	}
	err := toRPCError(context.Background(), "Test", errors.New("dial tcp 10.0.0.7:3306: secret detail"))
	if _, _, ok := rpcerr.From(err); ok || strings.Contains(err.Error(), "secret") {
		t.Errorf("unexpected error leaked as %v", err)
	}
}

// brokenRepo fails every call its way.
type brokenRepo struct {
	fail func() error
}

func (r brokenRepo) Create(context.Context, *domain.Account) (*domain.Account, error) {
	return nil, r.fail()
}
func (r brokenRepo) Update(context.Context, int64, func(*domain.Account) error) (*domain.Account, error) {
	return nil, r.fail()
}
func (r brokenRepo) ByUsername(context.Context, string) (*domain.Account, error) {
	return nil, r.fail()
}

func TestFailuresDoNotReachCallers(t *testing.T) {
	service := auth.NewContext(context.Background(), auth.Principal{Scopes: []string{auth.ScopeService}})
	user := auth.NewContext(context.Background(), auth.Principal{Username: "alice", AccountID: 2, Scopes: []string{auth.ScopeBrowser}})
	// No password: the failure must come from the repository, and hashing
	// one would only slow the test down.
	valid := func() *account.AccountInput {
		name, user := "Alice", "alice"
		id := int64(2)
		return &account.AccountInput{Id: &id, Username: &user, Name: &name}
	}
	for name, fail := range map[string]func() error{
		"panic":       func() error { panic("boom: secret detail") },
		"plain error": func() error { return errors.New("secret detail") },
	} {
		h := NewHandler(app.New(brokenRepo{fail: fail}))
		calls := map[string]func() error{
			"GetAccount": func() error {
				_, err := h.GetAccount(service, &account.GetAccountRequest{Username: "alice"})
				return err
			},
			"CreateAccount": func() error { _, err := h.CreateAccount(context.Background(), valid()); return err },
			"UpdateAccount": func() error { _, err := h.UpdateAccount(user, valid()); return err },
			"VerifyCredentials": func() error {
				_, err := h.VerifyCredentials(service, &account.VerifyCredentialsRequest{Username: "alice", Password: "w"})
				return err
			},
		}
		for method, call := range calls {
			t.Run(name+"/"+method, func(t *testing.T) {
				err := call()
				if !errors.Is(err, errInternal) || strings.Contains(err.Error(), "secret") {
					t.Fatalf("%s = %v, want errInternal", method, err)
				}
			})
		}
	}
}

func TestNilRequests(t *testing.T) {
	h := NewHandler(app.New(brokenRepo{fail: func() error { return domain.ErrNotFound }}))
	service := auth.NewContext(context.Background(), auth.Principal{Scopes: []string{auth.ScopeService}})
	if _, err := h.GetAccount(service, nil); !rpcerr.Is(err, rpcerr.InvalidArgument) {
		t.Errorf("GetAccount(nil) = %v", err)
	}
	if _, err := h.CreateAccount(context.Background(), nil); !rpcerr.Is(err, rpcerr.InvalidArgument) {
		t.Errorf("CreateAccount(nil) = %v", err)
	}
	if _, err := h.UpdateAccount(context.Background(), nil); !rpcerr.Is(err, rpcerr.InvalidArgument) {
		t.Errorf("UpdateAccount(nil) = %v", err)
	}
	if _, err := h.VerifyCredentials(service, nil); !rpcerr.Is(err, rpcerr.Unauthenticated) {
		t.Errorf("VerifyCredentials(nil) = %v", err)
	}
}
