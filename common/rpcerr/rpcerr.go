// Package rpcerr carries domain errors across Kitex calls as business status
// errors with a typed code, so that no caller ever parses an error string.
//
// The codes mirror the ErrorCode enums of the IDLs (same numbers in every
// service); ports turn domain errors into these, the gateway turns these into
// HTTP statuses.
package rpcerr

import (
	"errors"

	"github.com/cloudwego/kitex/pkg/kerrors"
)

// Code is the typed status code of a business error.
type Code int32

const (
	InvalidArgument    Code = 1 // bad input
	NotFound           Code = 2 // no such entity
	Conflict           Code = 3 // unique field already taken
	FailedPrecondition Code = 4 // a business rule refuses the operation in the current state
	Unauthenticated    Code = 5 // no, invalid or expired credentials
	PermissionDenied   Code = 6 // authenticated but not allowed
	InsufficientStock  Code = 7 // not enough stock to freeze
	Unavailable        Code = 8 // a dependency could not be reached
)

func (c Code) String() string {
	switch c {
	case InvalidArgument:
		return "INVALID_ARGUMENT"
	case NotFound:
		return "NOT_FOUND"
	case Conflict:
		return "CONFLICT"
	case FailedPrecondition:
		return "FAILED_PRECONDITION"
	case Unauthenticated:
		return "UNAUTHENTICATED"
	case PermissionDenied:
		return "PERMISSION_DENIED"
	case InsufficientStock:
		return "INSUFFICIENT_STOCK"
	case Unavailable:
		return "UNAVAILABLE"
	}
	return "UNKNOWN"
}

// New returns an error that travels to the Kitex caller as a business status
// error with the given code and message.
func New(code Code, msg string) error {
	return kerrors.NewBizStatusError(int32(code), msg)
}

// From reports the code and message of a business error returned by a Kitex
// call (or created by New). ok is false for transport and other errors.
func From(err error) (code Code, msg string, ok bool) {
	if err == nil {
		return 0, "", false
	}
	if be, isBiz := kerrors.FromBizStatusError(err); isBiz {
		return Code(be.BizStatusCode()), be.BizMessage(), true
	}
	var be kerrors.BizStatusErrorIface
	if errors.As(err, &be) {
		return Code(be.BizStatusCode()), be.BizMessage(), true
	}
	return 0, "", false
}

// Is reports whether err is a business error with the given code.
func Is(err error, code Code) bool {
	c, _, ok := From(err)
	return ok && c == code
}
