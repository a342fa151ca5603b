package domain

import "slices"

// Item is one line of a settlement: how many of which product.
type Item struct {
	ProductID int64
	Amount    int32
}

// PricedItem is an Item with the unit price the warehouse held when it froze
// the stock; the payment charges that price whatever happens to the
// catalogue afterwards.
type PricedItem struct {
	Item
	UnitPrice Cents
}

// Purchase is the delivery information of a settlement.
type Purchase struct {
	Delivery  bool
	Pay       string
	Name      string
	Telephone string
	Location  string
}

// Settlement is a validated order: at least one item, each naming a product
// and a positive amount, and complete delivery information.
type Settlement struct {
	items    []Item
	purchase Purchase
}

// Messages of the contract's bean validation (§4.3). The original declared
// the nested ones without enforcing them (§14.8); we enforce all of them.
const (
	msgNoItems     = "结算单中缺少商品清单"
	msgNoProduct   = "结算单中必须有明确的商品信息"
	msgAmountBelow = "结算单中商品数量至少为一件"
	msgNoPurchase  = "结算单中缺少配送信息"
	msgNoName      = "配送信息中缺少收件人姓名"
	msgNoTelephone = "配送信息中缺少收件人电话"
	msgNoLocation  = "配送信息中缺少收件地址"
	msgNoPay       = "配送信息中缺少支付方式"
)

// NewSettlement validates an order. purchase is nil when the request had
// none. Lines naming the same product are merged, so the warehouse sees
// each product once.
func NewSettlement(items []Item, purchase *Purchase) (Settlement, error) {
	var problems []string
	add := func(msg string) {
		if !slices.Contains(problems, msg) {
			problems = append(problems, msg)
		}
	}
	if len(items) == 0 {
		add(msgNoItems)
	}
	for _, it := range items {
		if it.ProductID <= 0 {
			add(msgNoProduct)
		}
		if it.Amount < 1 {
			add(msgAmountBelow)
		}
	}
	if purchase == nil {
		add(msgNoPurchase)
	} else {
		if purchase.Name == "" {
			add(msgNoName)
		}
		if purchase.Telephone == "" {
			add(msgNoTelephone)
		}
		if purchase.Location == "" {
			add(msgNoLocation)
		}
		if purchase.Pay == "" {
			add(msgNoPay)
		}
	}
	if len(problems) > 0 {
		return Settlement{}, &ValidationError{Problems: problems}
	}

	merged := make([]Item, 0, len(items))
	index := make(map[int64]int, len(items))
	for _, it := range items {
		if i, ok := index[it.ProductID]; ok {
			merged[i].Amount += it.Amount
			if merged[i].Amount < it.Amount {
				// int32 overflow: no warehouse holds that many.
				return Settlement{}, ErrInsufficientStock
			}
			continue
		}
		index[it.ProductID] = len(merged)
		merged = append(merged, it)
	}
	return Settlement{items: merged, purchase: *purchase}, nil
}

// Items returns the order lines, one per product.
func (s Settlement) Items() []Item { return slices.Clone(s.items) }

// Purchase returns the delivery information.
func (s Settlement) Purchase() Purchase { return s.purchase }
