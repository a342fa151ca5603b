// Package view renders service results as the contract's JSON (§4, §5):
// the original's field names and key order, null for absent optional
// fields, Jackson's number and date forms, enum names as strings.
package view

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"example.com/bookstore/idl/kitex_gen/account"
	"example.com/bookstore/idl/kitex_gen/payment"
	"example.com/bookstore/idl/kitex_gen/warehouse"
)

// Marshal encodes v without escaping <, > and & (product descriptions are
// HTML; Jackson sends them as they are) and without a trailing newline.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Double is a Java Double as Jackson writes it: always with a fraction or
// an exponent (129.0, not 129).
type Double float64

func (d Double) MarshalJSON() ([]byte, error) { return appendJava(nil, float64(d), 64) }

// Float is a Java Float as Jackson writes it (9.6, not 9.600000381).
type Float float32

func (f Float) MarshalJSON() ([]byte, error) { return appendJava(nil, float64(f), 32) }

func appendJava(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, &json.UnsupportedValueError{Str: strconv.FormatFloat(f, 'g', -1, bits)}
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if !bytes.ContainsAny(b, ".e") {
		b = append(b, ".0"...)
	}
	return b, nil
}

// Time is a java.util.Date as Jackson 2.10 writes it:
// "2020-03-13T16:04:53.388+0000" (UTC, milliseconds, numeric zone).
type Time time.Time

const javaDate = "2006-01-02T15:04:05.000-0700"

func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(javaDate)+2)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, javaDate)
	return append(b, '"'), nil
}

// Account is the public account (no password: contract §14.3).
type Account struct {
	ID        int64   `json:"id"`
	Username  string  `json:"username"`
	Name      *string `json:"name"`
	Avatar    *string `json:"avatar"`
	Telephone *string `json:"telephone"`
	Email     *string `json:"email"`
	Location  *string `json:"location"`
}

// AccountOf renders an account.
func AccountOf(a *account.Account) Account {
	return Account{
		ID:        a.GetId(),
		Username:  a.GetUsername(),
		Name:      a.Name,
		Avatar:    a.Avatar,
		Telephone: a.Telephone,
		Email:     a.Email,
		Location:  a.Location,
	}
}

// Product is a catalogue entry with its specifications.
type Product struct {
	ID             int64           `json:"id"`
	Title          string          `json:"title"`
	Price          *Double         `json:"price"`
	Rate           Float           `json:"rate"`
	Description    string          `json:"description"`
	Cover          string          `json:"cover"`
	Detail         string          `json:"detail"`
	Specifications []Specification `json:"specifications"`
}

// Specification is one item/value line of a product.
type Specification struct {
	ID        int64  `json:"id"`
	Item      string `json:"item"`
	Value     string `json:"value"`
	ProductID int64  `json:"productId"`
}

// ProductOf renders a product.
func ProductOf(p *warehouse.Product) Product {
	out := Product{
		ID:             p.GetId(),
		Title:          p.GetTitle(),
		Rate:           Float(p.GetRate()),
		Description:    p.GetDescription(),
		Cover:          p.GetCover(),
		Detail:         p.GetDetail(),
		Specifications: make([]Specification, 0, len(p.GetSpecifications())),
	}
	if p != nil && p.Price != nil {
		d := Double(p.GetPrice())
		out.Price = &d
	}
	for _, s := range p.GetSpecifications() {
		out.Specifications = append(out.Specifications, Specification{
			ID:        s.GetId(),
			Item:      s.GetItem(),
			Value:     s.GetValue(),
			ProductID: s.GetProductId(),
		})
	}
	return out
}

// ProductsOf renders a list of products; none is [], never null.
func ProductsOf(ps []*warehouse.Product) []Product {
	out := make([]Product, 0, len(ps))
	for _, p := range ps {
		out = append(out, ProductOf(p))
	}
	return out
}

// Stockpile is a product's stock. Product is the original's transient JPA
// field, never loaded, hence always null.
type Stockpile struct {
	ID      int64     `json:"id"`
	Amount  int32     `json:"amount"`
	Frozen  int32     `json:"frozen"`
	Product *struct{} `json:"product"`
}

// StockpileOf renders a stockpile.
func StockpileOf(s *warehouse.Stockpile) Stockpile {
	return Stockpile{ID: s.GetId(), Amount: s.GetAmount(), Frozen: s.GetFrozen()}
}

// Advertisement is a carousel entry.
type Advertisement struct {
	ID        int64  `json:"id"`
	Image     string `json:"image"`
	ProductID int64  `json:"productId"`
}

// AdvertisementsOf renders a list of advertisements; none is [].
func AdvertisementsOf(as []*warehouse.Advertisement) []Advertisement {
	out := make([]Advertisement, 0, len(as))
	for _, a := range as {
		out = append(out, Advertisement{ID: a.GetId(), Image: a.GetImage(), ProductID: a.GetProductId()})
	}
	return out
}

// Payment is a settlement's payment, in the key order of the contract's example.
type Payment struct {
	ID          int64  `json:"id"`
	CreateTime  *Time  `json:"createTime"`
	PayID       string `json:"payId"`
	TotalPrice  Double `json:"totalPrice"`
	Expires     int64  `json:"expires"`
	PaymentLink string `json:"paymentLink"`
	PayState    string `json:"payState"`
}

// PaymentOf renders a payment.
func PaymentOf(p *payment.Payment) Payment {
	out := Payment{
		ID:          p.GetId(),
		PayID:       p.GetPayId(),
		TotalPrice:  Double(p.GetTotalPrice()),
		Expires:     p.GetExpires(),
		PaymentLink: p.GetPaymentLink(),
		PayState:    p.GetPayState().String(),
	}
	if ts := p.GetCreateTime(); ts != nil {
		t := Time(ts.AsTime())
		out.CreateTime = &t
	}
	return out
}
