package domain

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"
)

// ReservationState is where a settlement's stock reservation stands.
//
//	FROZEN ──Thaw──▶ THAWED      (stock back for sale)
//	   └────Decrease──▶ DECREASED (stock shipped)
//
// Both ends are final. Every transition is idempotent: repeating the one that
// led to the current state is a no-op, the other one is refused.
type ReservationState string

const (
	Frozen    ReservationState = "FROZEN"
	Thawed    ReservationState = "THAWED"
	Decreased ReservationState = "DECREASED"
)

// Messages of reservation errors.
const (
	MsgPayIDRequired  = "支付单号不允许为空"
	MsgPayIDTooLong   = "支付单号不能超过100个字符"
	MsgItemsRequired  = "冻结的商品不允许为空"
	MsgItemAmountMin  = "商品数量最少为1"
	MsgItemAmountMax  = "商品数量超出范围"
	MsgRefreezeThawed = "该支付单的库存已解冻，不允许再冻结"
	MsgThawDecreased  = "该支付单的库存已出库，不允许解冻"
	MsgDecreaseThawed = "该支付单的库存已解冻，不允许出库"
)

// Item asks for amount units of a product.
type Item struct {
	ProductID int64
	Amount    int32
}

// PricedItem is a reserved item with the unit price it had when frozen.
type PricedItem struct {
	ProductID int64
	Amount    int32
	Price     Cents
}

// StockChange is what a transition does to one product's stock: deltas of
// amount and frozen.
type StockChange struct {
	ProductID int64
	Amount    int32
	Frozen    int32
}

// NormalizeItems validates the items of a freeze and merges repeated
// products (an id that names no product is NOT_FOUND later, not invalid). The result is ordered by product id, so that concurrent freezes
// lock stock rows in the same order.
func NormalizeItems(items []Item) ([]Item, error) {
	if len(items) == 0 {
		return nil, Invalid(MsgItemsRequired)
	}
	var v violations
	sum := make(map[int64]int64, len(items))
	for _, it := range items {
		if it.Amount < 1 {
			v.add(MsgItemAmountMin)
		}
		sum[it.ProductID] += int64(it.Amount)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	out := make([]Item, 0, len(sum))
	for id, n := range sum {
		if n > math.MaxInt32 {
			return nil, Invalid(MsgItemAmountMax)
		}
		out = append(out, Item{ProductID: id, Amount: int32(n)})
	}
	slices.SortFunc(out, func(a, b Item) int { return cmp.Compare(a.ProductID, b.ProductID) })
	return out, nil
}

// maxPayID is the width of the original's pay_id column.
const maxPayID = 100

// CheckPayID validates the key of a reservation.
func CheckPayID(payID string) error {
	switch {
	case payID == "":
		return Invalid(MsgPayIDRequired)
	case utf8.RuneCountInString(payID) > maxPayID:
		return Invalid(MsgPayIDTooLong)
	}
	return nil
}

// Reservation is the stock a settlement (its pay id) holds.
type Reservation struct {
	payID string
	state ReservationState
	items []PricedItem
}

// NewReservation freezes normalized items at the given unit prices. A
// product without a price is unknown.
func NewReservation(payID string, items []Item, prices map[int64]Cents) (*Reservation, error) {
	if err := CheckPayID(payID); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, Invalid(MsgItemsRequired)
	}
	priced := make([]PricedItem, len(items))
	for i, it := range items {
		p, ok := prices[it.ProductID]
		if !ok {
			return nil, ProductNotFound(it.ProductID)
		}
		priced[i] = PricedItem{ProductID: it.ProductID, Amount: it.Amount, Price: p}
	}
	return &Reservation{payID: payID, state: Frozen, items: priced}, nil
}

// ThawedTombstone records a thaw that arrived before its freeze, so that the
// freeze, when it comes late, is refused instead of holding stock that no
// one will ever release.
func ThawedTombstone(payID string) (*Reservation, error) {
	if err := CheckPayID(payID); err != nil {
		return nil, err
	}
	return &Reservation{payID: payID, state: Thawed}, nil
}

// RestoreReservation rebuilds a stored reservation.
func RestoreReservation(payID string, state ReservationState, items []PricedItem) *Reservation {
	return &Reservation{payID: payID, state: state, items: items}
}

// Refreeze answers a repeated freeze of the same pay id: the items frozen the
// first time, unless the reservation was thawed meanwhile.
func (r *Reservation) Refreeze() ([]PricedItem, error) {
	if r.state == Thawed {
		return nil, newError(ErrWrongState, MsgRefreezeThawed)
	}
	return r.Items(), nil
}

// Thaw returns the frozen stock for sale. It changes nothing when already thawed.
func (r *Reservation) Thaw() ([]StockChange, error) {
	switch r.state {
	case Thawed:
		return nil, nil
	case Decreased:
		return nil, newError(ErrWrongState, MsgThawDecreased)
	case Frozen:
		r.state = Thawed
		return r.changes(func(n int32) StockChange { return StockChange{Amount: n, Frozen: -n} }), nil
	}
	return nil, fmt.Errorf("reservation %s: unknown state %q", r.payID, r.state)
}

// Decrease ships the frozen stock. It changes nothing when already decreased.
func (r *Reservation) Decrease() ([]StockChange, error) {
	switch r.state {
	case Decreased:
		return nil, nil
	case Thawed:
		return nil, newError(ErrWrongState, MsgDecreaseThawed)
	case Frozen:
		r.state = Decreased
		return r.changes(func(n int32) StockChange { return StockChange{Frozen: -n} }), nil
	}
	return nil, fmt.Errorf("reservation %s: unknown state %q", r.payID, r.state)
}

func (r *Reservation) changes(f func(n int32) StockChange) []StockChange {
	out := make([]StockChange, len(r.items))
	for i, it := range r.items {
		c := f(it.Amount)
		c.ProductID = it.ProductID
		out[i] = c
	}
	return out
}

func (r *Reservation) PayID() string           { return r.payID }
func (r *Reservation) State() ReservationState { return r.state }
func (r *Reservation) Items() []PricedItem     { return append([]PricedItem(nil), r.items...) }

// ReservationNotFound is the error for an unknown pay id.
func ReservationNotFound(payID string) error {
	return newError(ErrNotFound, "库存冻结记录不存在："+payID)
}
