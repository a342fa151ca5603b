package domain

// Wallet is an account's balance. An account without a stored wallet has
// an empty one.
type Wallet struct {
	accountID int64
	money     Cents
}

// NewWallet returns the wallet of accountID holding money.
func NewWallet(accountID int64, money Cents) *Wallet {
	return &Wallet{accountID: accountID, money: money}
}

func (w *Wallet) AccountID() int64 { return w.accountID }
func (w *Wallet) Money() Cents     { return w.money }

// Debit takes price from the wallet. As in the contract (§14.7), the balance
// must be strictly greater than the price: a wallet is never emptied.
func (w *Wallet) Debit(price Cents) error {
	if price < 0 {
		return ErrInsufficientBalance
	}
	if w.money <= price {
		return ErrInsufficientBalance
	}
	w.money -= price
	return nil
}
