package domain

import (
	"fmt"
	"unicode/utf8"
)

// Validation messages of the contract (§4.2).
const (
	MsgTitleRequired = "商品名称不允许为空"
	MsgPriceRequired = "商品应当有明确的价格"
	MsgPriceMin      = "商品价格最低为零"
	MsgRateMin       = "评分最低为0"
	MsgRateMax       = "评分最高为10"
	MsgSpecItem      = "商品规格名称不允许为空"
	MsgSpecValue     = "商品规格内容不允许为空"
)

// Limits the original's columns imposed (§6.3). Exceeding them was a 500
// there; here it is a validation message of the same style.
const (
	maxTitle       = 50
	maxDescription = 8000
	maxURL         = 100
	maxSpecItem    = 50
	maxSpecValue   = 100
	// MaxPrice keeps every price exact in cents and within DECIMAL(12,2).
	MaxPrice = 1e10
)

// ProductInput is a product as a client proposes it; NewProduct and
// Product.Update validate it.
type ProductInput struct {
	Title          string
	Price          *float64 // nil: no price given
	Rate           float32
	Description    string
	Cover          string
	Detail         string
	Specifications []SpecificationInput
}

// SpecificationInput is one proposed specification. ID names an existing
// specification of the same product to keep; other ids are ignored.
type SpecificationInput struct {
	ID    int64
	Item  string
	Value string
}

// Product is a book in the catalogue.
type Product struct {
	id          int64
	title       string
	price       Cents
	rate        float32
	description string
	cover       string
	detail      string
	specs       []Specification
}

// Specification is one "item: value" line of a product's details.
type Specification struct {
	id        int64
	item      string
	value     string
	productID int64
}

// NewProduct validates in and returns a product without id (not yet stored).
func NewProduct(in ProductInput) (*Product, error) {
	p := &Product{}
	if err := p.assign(in, nil); err != nil {
		return nil, err
	}
	return p, nil
}

// Update replaces every field and the specifications of p with in. A
// specification keeps its id when in names one p already has; the others
// become new rows.
func (p *Product) Update(in ProductInput) error {
	own := make(map[int64]bool, len(p.specs))
	for _, s := range p.specs {
		own[s.id] = true
	}
	next := &Product{id: p.id}
	if err := next.assign(in, own); err != nil {
		return err
	}
	*p = *next
	return nil
}

func (p *Product) assign(in ProductInput, ownSpecs map[int64]bool) error {
	var v violations
	switch n := utf8.RuneCountInString(in.Title); {
	case n == 0:
		v.add(MsgTitleRequired)
	case n > maxTitle:
		v.add(fmt.Sprintf("商品名称不能超过%d个字符", maxTitle))
	}
	switch {
	case in.Price == nil:
		v.add(MsgPriceRequired)
	case !(*in.Price >= 0): // also NaN
		v.add(MsgPriceMin)
	case *in.Price >= MaxPrice:
		v.add("商品价格超出范围")
	}
	if !(in.Rate >= 0) {
		v.add(MsgRateMin)
	} else if in.Rate > 10 {
		v.add(MsgRateMax)
	}
	if utf8.RuneCountInString(in.Description) > maxDescription {
		v.add(fmt.Sprintf("商品描述不能超过%d个字符", maxDescription))
	}
	if utf8.RuneCountInString(in.Cover) > maxURL {
		v.add(fmt.Sprintf("商品封面地址不能超过%d个字符", maxURL))
	}
	if utf8.RuneCountInString(in.Detail) > maxURL {
		v.add(fmt.Sprintf("商品详情地址不能超过%d个字符", maxURL))
	}
	specs := make([]Specification, 0, len(in.Specifications))
	seen := make(map[int64]bool)
	for _, s := range in.Specifications {
		switch n := utf8.RuneCountInString(s.Item); {
		case n == 0:
			v.add(MsgSpecItem)
		case n > maxSpecItem:
			v.add(fmt.Sprintf("商品规格名称不能超过%d个字符", maxSpecItem))
		}
		switch n := utf8.RuneCountInString(s.Value); {
		case n == 0:
			v.add(MsgSpecValue)
		case n > maxSpecValue:
			v.add(fmt.Sprintf("商品规格内容不能超过%d个字符", maxSpecValue))
		}
		var id int64
		if ownSpecs[s.ID] && !seen[s.ID] {
			id = s.ID
			seen[id] = true
		}
		specs = append(specs, Specification{id: id, item: s.Item, value: s.Value, productID: p.id})
	}
	if err := v.err(); err != nil {
		return err
	}
	p.title = in.Title
	p.price = CentsOf(*in.Price)
	p.rate = in.Rate
	p.description = in.Description
	p.cover = in.Cover
	p.detail = in.Detail
	p.specs = specs
	return nil
}

// RestoreProduct rebuilds a stored product; adapters use it for rows that
// were valid when written, so it checks nothing.
func RestoreProduct(id int64, title string, price Cents, rate float32, description, cover, detail string, specs []Specification) *Product {
	return &Product{id: id, title: title, price: price, rate: rate, description: description, cover: cover, detail: detail, specs: specs}
}

// RestoreSpecification rebuilds a stored specification.
func RestoreSpecification(id int64, item, value string, productID int64) Specification {
	return Specification{id: id, item: item, value: value, productID: productID}
}

// WithID returns a copy of p stored under id, its specifications with the
// ids the store gave them (in order; 0 keeps the current id).
func (p *Product) WithID(id int64, specIDs []int64) *Product {
	c := *p
	c.id = id
	c.specs = make([]Specification, len(p.specs))
	for i, s := range p.specs {
		s.productID = id
		if i < len(specIDs) && specIDs[i] != 0 {
			s.id = specIDs[i]
		}
		c.specs[i] = s
	}
	return &c
}

func (p *Product) ID() int64                       { return p.id }
func (p *Product) Title() string                   { return p.title }
func (p *Product) Price() Cents                    { return p.price }
func (p *Product) Rate() float32                   { return p.rate }
func (p *Product) Description() string             { return p.description }
func (p *Product) Cover() string                   { return p.cover }
func (p *Product) Detail() string                  { return p.detail }
func (p *Product) Specifications() []Specification { return append([]Specification(nil), p.specs...) }

func (s Specification) ID() int64        { return s.id }
func (s Specification) Item() string     { return s.item }
func (s Specification) Value() string    { return s.value }
func (s Specification) ProductID() int64 { return s.productID }

// ProductNotFound is the error for an unknown product id; the message is the
// one the original gave when deleting one (§4.2 W5).
func ProductNotFound(id int64) error {
	return newError(ErrNotFound, fmt.Sprintf("No class com.github.fenixsoft.bookstore.domain.warehouse.Product entity with id %d exists!", id))
}
