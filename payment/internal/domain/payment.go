package domain

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// State is a payment's state, named as in the contract's JSON.
type State string

const (
	StateWaiting State = "WAITING" // settled, stock frozen, not paid yet
	StateCancel  State = "CANCEL"  // cancelled by the buyer, stock thawed
	StatePayed   State = "PAYED"   // paid, frozen stock shipped
	StateTimeout State = "TIMEOUT" // not paid in time, stock thawed
)

// StockAction is what the warehouse must do with a payment's frozen stock
// after a state change. Each is delivered at least once, so the warehouse
// implements both idempotently by pay id.
type StockAction string

const (
	ActionThaw     StockAction = "THAW"
	ActionDecrease StockAction = "DECREASE"
)

// ErrNotDue: the payment's expiry time has not passed yet.
var ErrNotDue = errors.New("payment is not due to expire")

// Payment is a settlement awaiting (or done with) payment. Its stock was
// frozen in the warehouse at settlement; every transition out of WAITING
// records the StockAction that settles that reservation.
type Payment struct {
	id         int64
	payID      string
	accountID  int64
	createTime time.Time
	expires    time.Duration
	total      Cents
	link       string
	state      State
	items      []PricedItem
	purchase   Purchase

	actions []StockAction
}

// NewPayment prices a settlement with the unit prices the warehouse froze it
// at. now is truncated to milliseconds, the precision the database keeps, so
// that the payment reads back exactly as it was returned.
func NewPayment(payID string, accountID int64, s Settlement, priced []PricedItem, now time.Time, expires time.Duration) (*Payment, error) {
	if payID == "" {
		return nil, errors.New("payment: empty pay id")
	}
	if expires < time.Millisecond {
		return nil, fmt.Errorf("payment: expiry %v too short", expires)
	}
	if len(s.items) == 0 {
		return nil, errors.New("payment: empty settlement")
	}
	byProduct := make(map[int64]PricedItem, len(priced))
	for _, pi := range priced {
		byProduct[pi.ProductID] = pi
	}
	total := ShippingFee
	items := make([]PricedItem, 0, len(s.items))
	for _, it := range s.items {
		pi, ok := byProduct[it.ProductID]
		if !ok || pi.Amount != it.Amount || pi.UnitPrice < 0 {
			return nil, fmt.Errorf("%w: frozen items do not match the settlement (product %d)", ErrWarehouseRefused, it.ProductID)
		}
		total += pi.UnitPrice * Cents(it.Amount)
		items = append(items, pi)
	}
	if len(priced) != len(s.items) {
		return nil, fmt.Errorf("%w: warehouse froze %d lines for %d", ErrWarehouseRefused, len(priced), len(s.items))
	}
	return &Payment{
		payID:      payID,
		accountID:  accountID,
		createTime: now.UTC().Truncate(time.Millisecond),
		expires:    expires.Truncate(time.Millisecond),
		total:      total,
		link:       PaymentLink(payID, accountID),
		state:      StateWaiting,
		items:      items,
		purchase:   s.purchase,
	}, nil
}

// PaymentLink is the link the frontend renders as a QR code: an anonymous
// call that pays for the named account (contract §4.3, P3). Without an
// account the accountId parameter is left out, as in the original.
func PaymentLink(payID string, accountID int64) string {
	link := "/pay/modify/" + payID + "?state=PAYED"
	if accountID > 0 {
		link += fmt.Sprintf("&accountId=%d", accountID)
	}
	return link
}

// PaymentRecord is a payment's stored form, for adapters: they load it with
// UnmarshalPayment and save what Record returns.
type PaymentRecord struct {
	ID         int64
	PayID      string
	AccountID  int64
	CreateTime time.Time
	Expires    time.Duration
	Total      Cents
	Link       string
	State      State
	Items      []PricedItem
	Purchase   Purchase
}

// UnmarshalPayment rebuilds a payment from storage.
func UnmarshalPayment(r PaymentRecord) (*Payment, error) {
	switch r.State {
	case StateWaiting, StateCancel, StatePayed, StateTimeout:
	default:
		return nil, fmt.Errorf("payment %s: unknown state %q", r.PayID, r.State)
	}
	return &Payment{
		id: r.ID, payID: r.PayID, accountID: r.AccountID, createTime: r.CreateTime.UTC(),
		expires: r.Expires, total: r.Total, link: r.Link, state: r.State,
		items: slices.Clone(r.Items), purchase: r.Purchase,
	}, nil
}

// Record returns the payment's stored form.
func (p *Payment) Record() PaymentRecord {
	return PaymentRecord{
		ID: p.id, PayID: p.payID, AccountID: p.accountID, CreateTime: p.createTime,
		Expires: p.expires, Total: p.total, Link: p.link, State: p.state,
		Items: slices.Clone(p.items), Purchase: p.purchase,
	}
}

// AssignID records the identity the database gave a new payment (the
// contract's numeric "id"); it is set once, when the payment is stored.
func (p *Payment) AssignID(id int64) {
	if p.id == 0 {
		p.id = id
	}
}

func (p *Payment) ID() int64              { return p.id }
func (p *Payment) PayID() string          { return p.payID }
func (p *Payment) AccountID() int64       { return p.accountID }
func (p *Payment) CreateTime() time.Time  { return p.createTime }
func (p *Payment) Expires() time.Duration { return p.expires }
func (p *Payment) ExpireAt() time.Time    { return p.createTime.Add(p.expires) }
func (p *Payment) Total() Cents           { return p.total }
func (p *Payment) Link() string           { return p.link }
func (p *Payment) State() State           { return p.state }
func (p *Payment) Items() []PricedItem    { return slices.Clone(p.items) }
func (p *Payment) Purchase() Purchase     { return p.purchase }

// IsDue reports whether the payment is WAITING past its expiry time.
func (p *Payment) IsDue(now time.Time) bool {
	return p.state == StateWaiting && now.After(p.ExpireAt())
}

// Pay marks the payment paid; the frozen stock is to be shipped. A payment
// past its expiry is refused as TIMEOUT even before the sweeper got to it:
// its stock is about to be thawed.
func (p *Payment) Pay(now time.Time) error {
	if p.state != StateWaiting {
		return &StateError{Op: OpPay, State: p.state}
	}
	if p.IsDue(now) {
		return &StateError{Op: OpPay, State: StateTimeout}
	}
	p.transition(StatePayed, ActionDecrease)
	return nil
}

// Cancel marks the payment cancelled; its frozen stock is to be thawed.
func (p *Payment) Cancel(now time.Time) error {
	if p.state != StateWaiting {
		return &StateError{Op: OpCancel, State: p.state}
	}
	if p.IsDue(now) {
		return &StateError{Op: OpCancel, State: StateTimeout}
	}
	p.transition(StateCancel, ActionThaw)
	return nil
}

// Expire times the payment out; its frozen stock is to be thawed.
func (p *Payment) Expire(now time.Time) error {
	if p.state != StateWaiting {
		return &StateError{Op: OpExpire, State: p.state}
	}
	if !p.IsDue(now) {
		return ErrNotDue
	}
	p.transition(StateTimeout, ActionThaw)
	return nil
}

func (p *Payment) transition(to State, action StockAction) {
	p.state = to
	p.actions = append(p.actions, action)
}

// PendingActions returns the stock actions recorded since the payment was
// loaded. The adapter stores them in the same transaction as the new state,
// so a state change and its warehouse follow-up are never separated.
func (p *Payment) PendingActions() []StockAction { return slices.Clone(p.actions) }
