package httperr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/kitex/pkg/kerrors"
	"github.com/cloudwego/kitex/pkg/remote"

	"example.com/bookstore/common/rpcerr"
)

// respond writes err through Respond and returns what a client would see.
func respond(err error) (int, string, *app.RequestContext) {
	c := app.NewContext(0)
	Respond(context.Background(), c, err)
	return c.Response.StatusCode(), string(c.Response.Body()), c
}

func TestFromRPC(t *testing.T) {
	remoteFailure := kerrors.ErrRemoteOrNetwork.WithCause(remote.NewTransErrorWithMsg(remote.InternalError, "biz error: sql: no such table"))
	for _, tc := range []struct {
		name   string
		err    error
		op     Op
		status int
		body   string
	}{
		{"invalid argument", rpcerr.New(rpcerr.InvalidArgument, "用户不允许为空"), Write, 400, `{"code":1,"message":"用户不允许为空"}`},
		{"conflict", rpcerr.New(rpcerr.Conflict, "用户名称、邮箱、手机号码均不允许与现存用户重复"), Write, 400, `{"code":1,"message":"用户名称、邮箱、手机号码均不允许与现存用户重复"}`},
		{"insufficient stock", rpcerr.New(rpcerr.InsufficientStock, "商品库存不足"), Write, 400, `{"code":1,"message":"商品库存不足"}`},
		{"not found on read", rpcerr.New(rpcerr.NotFound, "商品不存在"), Read, 204, ``},
		{"not found on write", rpcerr.New(rpcerr.NotFound, "商品不存在"), Write, 404, `{"code":1,"message":"商品不存在"}`},
		{"failed precondition", rpcerr.New(rpcerr.FailedPrecondition, "当前订单不允许支付，当前状态为：PAYED"), Write, 500, `{"code":1,"message":"当前订单不允许支付，当前状态为：PAYED"}`},
		{"unauthenticated", rpcerr.New(rpcerr.Unauthenticated, "invalid_token"), Read, 401, `{"error":"invalid_token","error_description":"invalid_token"}`},
		{"permission denied", rpcerr.New(rpcerr.PermissionDenied, "仅管理员可操作"), Write, 403, `{"code":1,"message":"Access is denied"}`},
		{"unavailable", rpcerr.New(rpcerr.Unavailable, "warehouse down"), Write, 503, `{"code":1,"message":"payment 服务暂不可用"}`},
		{"unknown code", rpcerr.New(42, "secret detail"), Read, 500, `{"code":1,"message":"服务器内部错误"}`},
		{"rpc timeout", kerrors.ErrRPCTimeout.WithCause(errors.New("timeout=3s")), Read, 503, `{"code":1,"message":"payment 服务暂不可用"}`},
		{"no connection", kerrors.ErrGetConnection.WithCause(errors.New("dial tcp 127.0.0.1:1: connect: connection refused")), Read, 503, `{"code":1,"message":"payment 服务暂不可用"}`},
		{"broken connection", kerrors.ErrRemoteOrNetwork.WithCause(errors.New("connection reset by peer")), Read, 503, `{"code":1,"message":"payment 服务暂不可用"}`},
		{"circuit open", kerrors.ErrCircuitBreak, Read, 503, `{"code":1,"message":"payment 服务暂不可用"}`},
		{"handler error", remoteFailure, Read, 500, `{"code":1,"message":"服务器内部错误"}`},
		{"plain error", errors.New("boom"), Write, 500, `{"code":1,"message":"服务器内部错误"}`},
		{"wrapped business error", fmt.Errorf("ctx: %w", rpcerr.New(rpcerr.Conflict, "dup")), Write, 400, `{"code":1,"message":"dup"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := respond(FromRPC(tc.err, "payment", tc.op))
			if status != tc.status || body != tc.body {
				t.Fatalf("got %d %s, want %d %s", status, body, tc.status, tc.body)
			}
		})
	}
}

func TestFromRPCUnauthenticatedHeader(t *testing.T) {
	_, _, c := respond(FromRPC(rpcerr.New(rpcerr.Unauthenticated, "expired"), "account", Read))
	if got := string(c.Response.Header.Peek("WWW-Authenticate")); got != `Bearer error="invalid_token", error_description="expired"` {
		t.Fatalf("WWW-Authenticate %q", got)
	}
}

func TestOAuthFromRPC(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{"wrong password", rpcerr.New(rpcerr.Unauthenticated, "密码不正确"), 400, `{"error":"invalid_grant","error_description":"Bad credentials"}`},
		{"unknown user", rpcerr.New(rpcerr.NotFound, "用户不存在"), 400, `{"error":"invalid_grant","error_description":"Bad credentials"}`},
		{"refused input", rpcerr.New(rpcerr.InvalidArgument, "用户不允许为空"), 400, `{"error":"invalid_grant","error_description":"Bad credentials"}`},
		{"unavailable", rpcerr.New(rpcerr.Unavailable, "db"), 503, `{"error":"temporarily_unavailable","error_description":"account 服务暂不可用"}`},
		{"unreachable", kerrors.ErrGetConnection.WithCause(errors.New("refused")), 503, `{"error":"temporarily_unavailable","error_description":"account 服务暂不可用"}`},
		{"other", rpcerr.New(rpcerr.FailedPrecondition, "x"), 500, `{"error":"server_error","error_description":"Internal Server Error"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := respond(OAuthFromRPC(tc.err, "account", "Bad credentials"))
			if status != tc.status || body != tc.body {
				t.Fatalf("got %d %s, want %d %s", status, body, tc.status, tc.body)
			}
		})
	}
}

func TestRespond(t *testing.T) {
	status, body, c := respond(InvalidToken("Access token expired"))
	if status != 401 || body != `{"error":"invalid_token","error_description":"Access token expired"}` {
		t.Fatalf("invalid token: %d %s", status, body)
	}
	if got := string(c.Response.Header.ContentType()); got != ContentTypeJSON {
		t.Fatalf("content type %q", got)
	}
	status, body, _ = respond(Forbidden())
	if status != http.StatusForbidden || body != `{"code":1,"message":"Access is denied"}` {
		t.Fatalf("forbidden: %d %s", status, body)
	}
	// An error that is not an *Error never shows its text.
	status, body, _ = respond(errors.New("dial tcp 10.1.2.3:3306: i/o timeout"))
	if status != 500 || body != `{"code":1,"message":"服务器内部错误"}` {
		t.Fatalf("plain error: %d %s", status, body)
	}
	status, body, _ = respond(NoContent)
	if status != 204 || body != "" {
		t.Fatalf("no content: %d %q", status, body)
	}
}
