// Package httperr holds the contract's error bodies and the one mapping from
// service errors (rpcerr codes, Kitex transport failures) to HTTP.
//
// Two body shapes exist (contract §2.3): the CodedMessage
// {"code":1,"message":...} of the REST resources and Spring OAuth2's
// {"error":...,"error_description":...} of the token endpoint and of bearer
// token failures. The frontend understands both.
package httperr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/cloudwego/kitex/pkg/kerrors"

	"example.com/bookstore/common/rpcerr"
)

// Messages of the contract.
const (
	MsgOK           = "操作已成功"
	MsgAccessDenied = "Access is denied"
	// msgInternal is all a client learns about an unexpected failure; the
	// detail goes to the log.
	msgInternal = "服务器内部错误"
)

// Coded is the contract's CodedMessage.
type Coded struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// OK is the body of a successful command.
var OK = Coded{Code: 0, Message: MsgOK}

// OAuth is Spring Security OAuth2's error body.
type OAuth struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// Error is an HTTP answer other than the happy path: a status, a body (nil
// for none) and extra headers. Cause, when set, is logged and never sent.
type Error struct {
	Status int
	Body   any
	Header map[string]string
	Cause  error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("http %d", e.Status)
	switch b := e.Body.(type) {
	case Coded:
		msg += ": " + b.Message
	case OAuth:
		msg += ": " + b.Error + ": " + b.Description
	}
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Cause }

// NoContent is the contract's answer for an unknown entity on a read: 204
// with an empty body (Jersey's answer to a resource method returning null).
var NoContent = &Error{Status: http.StatusNoContent}

func coded(status int, msg string) *Error {
	return &Error{Status: status, Body: Coded{Code: 1, Message: msg}}
}

// BadRequest is a 400 CodedMessage: invalid input the client can fix.
func BadRequest(msg string) *Error { return coded(http.StatusBadRequest, msg) }

// Forbidden is Spring Security's AccessDeniedException as the contract renders it.
func Forbidden() *Error { return coded(http.StatusForbidden, MsgAccessDenied) }

// NotFound is the answer to an unknown route or to a write on an unknown entity.
func NotFound(msg string) *Error { return coded(http.StatusNotFound, msg) }

// MethodNotAllowed is the answer to a known path with the wrong method.
func MethodNotAllowed() *Error {
	return coded(http.StatusMethodNotAllowed, "HTTP 405 Method Not Allowed")
}

// Internal is a 500 whose cause is logged, not sent.
func Internal(cause error) *Error {
	e := coded(http.StatusInternalServerError, msgInternal)
	e.Cause = cause
	return e
}

// Unavailable is a 503 naming the service that cannot be reached.
func Unavailable(service string, cause error) *Error {
	e := coded(http.StatusServiceUnavailable, service+" 服务暂不可用")
	e.Cause = cause
	return e
}

// InvalidToken is the resource server's answer to a bad bearer token, even
// on public endpoints (contract §2.4).
func InvalidToken(desc string) *Error {
	return &Error{
		Status: http.StatusUnauthorized,
		Body:   OAuth{Error: "invalid_token", Description: desc},
		Header: map[string]string{"WWW-Authenticate": fmt.Sprintf(`Bearer error="invalid_token", error_description=%q`, desc)},
	}
}

// OAuthError is a token endpoint error (contract §3.5).
func OAuthError(status int, code, desc string) *Error {
	return &Error{Status: status, Body: OAuth{Error: code, Description: desc}}
}

// Op says whether a call reads or changes state: NOT_FOUND means "no such
// thing" (204) on a read and a failed command (404) on a write.
type Op int

const (
	Read Op = iota
	Write
)

// FromRPC maps the error of a Kitex call to service (named in messages) to
// the REST contract's answer.
func FromRPC(err error, service string, op Op) *Error {
	code, msg, ok := rpcerr.From(err)
	if !ok {
		if IsTransport(err) {
			return Unavailable(service, err)
		}
		return Internal(fmt.Errorf("%s: %w", service, err))
	}
	switch code {
	case rpcerr.InvalidArgument, rpcerr.Conflict, rpcerr.InsufficientStock:
		return BadRequest(orDefault(msg, "请求参数不正确"))
	case rpcerr.NotFound:
		if op == Read {
			return NoContent
		}
		// The original answered 500 (an entity-not-found exception through
		// the catch-all mapper). 404 tells the frontend the same thing, in
		// the same body shape, with a status that is not a server fault.
		return NotFound(orDefault(msg, "资源不存在"))
	case rpcerr.FailedPrecondition:
		// 500 as in the original: the frontend shows the message ("当前订单
		// 不允许支付…", "用户余额不足以支付，请先充值").
		return coded(http.StatusInternalServerError, orDefault(msg, "当前状态不允许此操作"))
	case rpcerr.Unauthenticated:
		return InvalidToken(orDefault(msg, "Invalid access token"))
	case rpcerr.PermissionDenied:
		return Forbidden()
	case rpcerr.Unavailable:
		return Unavailable(service, err)
	}
	return Internal(fmt.Errorf("%s: unexpected business code %d: %w", service, code, err))
}

// OAuthFromRPC maps the error of a call the token endpoint makes to check a
// grant: a refusal of the grant itself is 400 invalid_grant with grantDesc
// ("Bad credentials", "Invalid refresh token"); a dependency that cannot be
// reached is 503, so that a client can tell an outage from wrong credentials.
func OAuthFromRPC(err error, service, grantDesc string) *Error {
	code, _, ok := rpcerr.From(err)
	switch {
	case ok && (code == rpcerr.Unauthenticated || code == rpcerr.NotFound || code == rpcerr.InvalidArgument):
		return OAuthError(http.StatusBadRequest, "invalid_grant", grantDesc)
	case ok && code == rpcerr.Unavailable, !ok && IsTransport(err):
		e := OAuthError(http.StatusServiceUnavailable, "temporarily_unavailable", service+" 服务暂不可用")
		e.Cause = err
		return e
	}
	e := OAuthError(http.StatusInternalServerError, "server_error", "Internal Server Error")
	e.Cause = fmt.Errorf("%s: %w", service, err)
	return e
}

// IsTransport reports whether err means the service could not be reached or
// did not answer in time, as opposed to an answer that was an error.
func IsTransport(err error) bool {
	for _, target := range []error{
		kerrors.ErrRPCTimeout,
		kerrors.ErrGetConnection,
		kerrors.ErrNoConnection,
		kerrors.ErrNoDestAddress,
		kerrors.ErrNoDestService,
		kerrors.ErrServiceDiscovery,
		kerrors.ErrCircuitBreak,
		kerrors.ErrOverlimit,
		context.DeadlineExceeded,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return errors.Is(err, kerrors.ErrRemoteOrNetwork) && !isRemoteApplicationError(err)
}

// isRemoteApplicationError tells a handler's non-business error (the server
// answered, with a failure) from a broken connection, both of which Kitex
// reports as ErrRemoteOrNetwork.
func isRemoteApplicationError(err error) bool {
	var de *kerrors.DetailedError
	if !errors.As(err, &de) {
		return false
	}
	var te interface{ TypeID() int32 }
	return errors.As(de.Unwrap(), &te)
}

// Log records the cause of a server-side failure.
func Log(ctx context.Context, e *Error, method, path string) {
	if e.Status < 500 || e.Cause == nil {
		return
	}
	slog.ErrorContext(ctx, "request failed", "method", method, "path", path, "status", e.Status, "err", e.Cause)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
