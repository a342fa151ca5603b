package domain

import (
	"math"
	"strconv"
)

// Cents is an exact amount of money: prices keep two decimals (29.99 stays
// 29.99), where the original's HSQLDB DECIMAL rounded them to whole units.
type Cents int64

// CentsOf rounds a price given as a float to whole cents.
func CentsOf(price float64) Cents { return Cents(math.Round(price * 100)) }

// Float64 returns the amount in currency units, as the IDL carries it.
func (c Cents) Float64() float64 { return float64(c) / 100 }

func (c Cents) String() string { return strconv.FormatFloat(c.Float64(), 'f', 2, 64) }
