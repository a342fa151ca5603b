// Package domain holds the warehouse's entities (products, stock, stock
// reservations, advertisements), the rules that guard them and the
// repository interfaces the adapters implement. It knows nothing of gorm or
// Kitex.
package domain

import (
	"errors"
	"strings"
)

// Kinds of domain errors. Callers test them with errors.Is; the message a
// client sees is the Message of the *Error that wraps the kind.
var (
	ErrInvalid           = errors.New("invalid argument")
	ErrNotFound          = errors.New("not found")
	ErrInsufficientStock = errors.New("insufficient stock")
	// ErrWrongState refuses a reservation transition its state does not allow.
	ErrWrongState = errors.New("wrong reservation state")
	// ErrReservationExists is returned by ReservationRepository.AddReservation
	// when another reservation already holds the pay id; the app layer then
	// answers from the stored one.
	ErrReservationExists = errors.New("reservation exists")
)

// Error is a domain error whose Message is fit to show the caller (the
// contract's wording where it has one).
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

func newError(kind error, msg string) *Error { return &Error{Kind: kind, Message: msg} }

// MsgInsufficientStock is the contract's message for a freeze that cannot be served.
const MsgInsufficientStock = "商品库存不足"

// InsufficientStock reports that some item of a freeze is short.
func InsufficientStock() error { return newError(ErrInsufficientStock, MsgInsufficientStock) }

// violations collects validation messages in order, once each, and joins
// them the way the original's ViolationExceptionMapper did (U+FF1B).
type violations []string

func (v *violations) add(msg string) {
	for _, m := range *v {
		if m == msg {
			return
		}
	}
	*v = append(*v, msg)
}

func (v violations) err() error {
	if len(v) == 0 {
		return nil
	}
	return newError(ErrInvalid, strings.Join(v, "；"))
}

// Invalid returns an ErrInvalid error with msg.
func Invalid(msg string) error { return newError(ErrInvalid, msg) }
