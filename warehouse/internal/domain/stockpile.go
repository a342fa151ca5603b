package domain

import "strconv"

// MsgAmountMin refuses a negative stock amount.
const MsgAmountMin = "库存数量最低为0"

// Stockpile is the stock of one product: amount is for sale, frozen is held
// by unpaid settlements. Every product has exactly one.
type Stockpile struct {
	id        int64
	productID int64
	amount    int32
	frozen    int32
}

// RestoreStockpile rebuilds a stored stockpile.
func RestoreStockpile(id, productID int64, amount, frozen int32) *Stockpile {
	return &Stockpile{id: id, productID: productID, amount: amount, frozen: frozen}
}

// SetAmount sets the stock for sale; what settlements hold stays frozen.
func (s *Stockpile) SetAmount(n int32) error {
	if n < 0 {
		return Invalid(MsgAmountMin)
	}
	s.amount = n
	return nil
}

func (s *Stockpile) ID() int64        { return s.id }
func (s *Stockpile) ProductID() int64 { return s.productID }
func (s *Stockpile) Amount() int32    { return s.amount }
func (s *Stockpile) Frozen() int32    { return s.frozen }

// StockpileNotFound is the error for a product without stock; the message
// is the id, as the original's EntityNotFoundException gave it (§4.2 W6).
func StockpileNotFound(productID int64) error {
	return newError(ErrNotFound, strconv.FormatInt(productID, 10))
}

// Advertisement is a carousel picture linking to a product.
type Advertisement struct {
	ID        int64
	Image     string
	ProductID int64
}
