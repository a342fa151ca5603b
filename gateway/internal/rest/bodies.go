package rest

import (
	"math"
	"strings"

	"example.com/bookstore/gateway/internal/httperr"
	"example.com/bookstore/idl/kitex_gen/account"
	"example.com/bookstore/idl/kitex_gen/payment"
	"example.com/bookstore/idl/kitex_gen/warehouse"
)

// The request bodies of the contract. Pointers tell an absent or null key
// from a zero value where the services care (a missing price, a password
// left out of an update).

type accountBody struct {
	ID        *int64  `json:"id"`
	Username  *string `json:"username"`
	Password  *string `json:"password"`
	Name      *string `json:"name"`
	Avatar    *string `json:"avatar"`
	Telephone *string `json:"telephone"`
	Email     *string `json:"email"`
	Location  *string `json:"location"`
}

func (b *accountBody) input() *account.AccountInput {
	return &account.AccountInput{
		Id:        b.ID,
		Username:  b.Username,
		Password:  b.Password,
		Name:      b.Name,
		Avatar:    b.Avatar,
		Telephone: b.Telephone,
		Email:     b.Email,
		Location:  b.Location,
	}
}

type productBody struct {
	ID             *int64     `json:"id"`
	Title          *string    `json:"title"`
	Price          *float64   `json:"price"`
	Rate           *float64   `json:"rate"`
	Description    *string    `json:"description"`
	Cover          *string    `json:"cover"`
	Detail         *string    `json:"detail"`
	Specifications []specBody `json:"specifications"`
}

type specBody struct {
	ID        *int64  `json:"id"`
	Item      *string `json:"item"`
	Value     *string `json:"value"`
	ProductID *int64  `json:"productId"`
}

// product converts the body; a rate beyond float32 is refused here because
// it cannot be carried, not because of a business rule (0..10 is the
// warehouse's to check).
func (b *productBody) product() (*warehouse.Product, error) {
	p := &warehouse.Product{
		Id:          deref(b.ID),
		Title:       deref(b.Title),
		Price:       b.Price,
		Description: deref(b.Description),
		Cover:       deref(b.Cover),
		Detail:      deref(b.Detail),
	}
	if b.Rate != nil {
		if math.Abs(*b.Rate) > math.MaxFloat32 {
			return nil, httperr.BadRequest("字段 rate 超出范围")
		}
		p.Rate = float32(*b.Rate)
	}
	for _, s := range b.Specifications {
		p.Specifications = append(p.Specifications, &warehouse.Specification{
			Id:        deref(s.ID),
			Item:      deref(s.Item),
			Value:     deref(s.Value),
			ProductId: deref(s.ProductID),
		})
	}
	return p, nil
}

type settlementBody struct {
	Items    []itemBody    `json:"items"`
	Purchase *purchaseBody `json:"purchase"`
}

// itemBody is a line of a settlement; the product id is sent as "id".
type itemBody struct {
	ID     *int64 `json:"id"`
	Amount *int32 `json:"amount"`
}

type purchaseBody struct {
	Delivery  *bool   `json:"delivery"`
	Pay       *string `json:"pay"`
	Name      *string `json:"name"`
	Telephone *string `json:"telephone"`
	Location  *string `json:"location"`
}

// validate applies the settlement's own constraints (contract §4.3). They
// are checked here, before the caller's right to settle, because the
// original validates the body first: an anonymous caller with an empty
// cart gets 400, not 403. The payment service checks them again.
func (b *settlementBody) validate() error {
	var msgs []string
	if len(b.Items) == 0 {
		msgs = append(msgs, "结算单中缺少商品清单")
	}
	if b.Purchase == nil {
		msgs = append(msgs, "结算单中缺少配送信息")
	}
	if len(msgs) > 0 {
		return httperr.BadRequest(strings.Join(msgs, "；"))
	}
	return nil
}

func (b *settlementBody) request() *payment.SettleRequest {
	req := &payment.SettleRequest{}
	for _, it := range b.Items {
		req.Items = append(req.Items, &payment.Item{ProductId: deref(it.ID), Amount: deref(it.Amount)})
	}
	if p := b.Purchase; p != nil {
		req.Purchase = &payment.Purchase{
			// Purchase.delivery defaults to true in the original.
			Delivery:  p.Delivery == nil || *p.Delivery,
			Pay:       deref(p.Pay),
			Name:      deref(p.Name),
			Telephone: deref(p.Telephone),
			Location:  deref(p.Location),
		}
	}
	return req
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
