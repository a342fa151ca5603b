package domain

import (
	"fmt"
	"math"
	"strconv"
)

// Cents is an amount of money in hundredths of a yuan. Prices and balances
// are added and compared as integers so that Σ price × amount is exact; the
// contract's doubles exist only at the edges.
type Cents int64

// ShippingFee is the fixed delivery charge of every settlement: "12元固定运费，
// 客户端写死的" (the frontend shows it as a constant, so it must stay 12).
const ShippingFee Cents = 1200

// maxCents keeps a product of price and amount far from int64 overflow
// (a 32-bit amount times this still fits) and rejects absurd prices.
const maxCents = Cents(1) << 40

// CentsOf converts a price or balance given in yuan to cents, rounding to the
// nearest cent.
func CentsOf(yuan float64) (Cents, error) {
	if math.IsNaN(yuan) || math.IsInf(yuan, 0) || yuan < 0 {
		return 0, fmt.Errorf("invalid money amount %v", yuan)
	}
	c := math.Round(yuan * 100)
	if c > float64(maxCents) {
		return 0, fmt.Errorf("money amount %v out of range", yuan)
	}
	return Cents(c), nil
}

// Yuan is the amount as the contract's double (two decimals at most).
func (c Cents) Yuan() float64 { return float64(c) / 100 }

func (c Cents) String() string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return sign + strconv.FormatInt(int64(c/100), 10) + "." + fmt.Sprintf("%02d", int64(c%100))
}
