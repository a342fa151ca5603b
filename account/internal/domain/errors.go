package domain

import (
	"errors"
	"strings"
)

// ValidationError lists every rule an input broke, in a stable order.
type ValidationError struct {
	Violations []string
}

// Error joins the violations the way the contract's 400 body does.
func (e *ValidationError) Error() string {
	return strings.Join(e.Violations, ViolationSeparator)
}

// The messages of these errors are the contract's and reach the end user.
var (
	// ErrDuplicateAccount: a new account's username, email or telephone is
	// already in use.
	ErrDuplicateAccount = errors.New("用户名称、邮箱、手机号码均不允许与现存用户重复")
	// ErrConflictingAccount: an update would give an account the username,
	// email or telephone of another account.
	ErrConflictingAccount = errors.New("用户名称、邮箱、手机号码与现存用户产生重复")
	// ErrNotFound: no such account.
	ErrNotFound = errors.New("account not found")
	// ErrBadCredentials: wrong username or password, deliberately not told
	// apart (Spring Security's message).
	ErrBadCredentials = errors.New("Bad credentials")
	// ErrAccessDenied: the caller may not do this (Spring Security's message).
	ErrAccessDenied = errors.New("Access is denied")
)
