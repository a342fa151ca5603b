package domain

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func price(f float64) *float64 { return &f }

func validInput() ProductInput {
	return ProductInput{
		Title: "凤凰架构", Price: price(29.99), Rate: 9.5,
		Description: "<p>书</p>", Cover: "/static/cover/fenix.png", Detail: "/static/desc/fenix.jpg",
		Specifications: []SpecificationInput{{Item: "作者", Value: "周志明"}},
	}
}

func TestNewProductValidation(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*ProductInput)
		want   string // "" means valid
	}{
		{"valid", func(*ProductInput) {}, ""},
		{"zero price and rate are fine", func(in *ProductInput) { in.Price = price(0); in.Rate = 0 }, ""},
		{"rate 10 is fine", func(in *ProductInput) { in.Rate = 10 }, ""},
		{"no specifications is fine", func(in *ProductInput) { in.Specifications = nil }, ""},
		{"empty title", func(in *ProductInput) { in.Title = "" }, MsgTitleRequired},
		{"no price", func(in *ProductInput) { in.Price = nil }, MsgPriceRequired},
		{"negative price", func(in *ProductInput) { in.Price = price(-0.01) }, MsgPriceMin},
		{"NaN price", func(in *ProductInput) { in.Price = price(math.NaN()) }, MsgPriceMin},
		{"huge price", func(in *ProductInput) { in.Price = price(math.Inf(1)) }, "商品价格超出范围"},
		{"negative rate", func(in *ProductInput) { in.Rate = -1 }, MsgRateMin},
		{"rate above 10", func(in *ProductInput) { in.Rate = 10.5 }, MsgRateMax},
		{"empty spec item", func(in *ProductInput) { in.Specifications[0].Item = "" }, MsgSpecItem},
		{"empty spec value", func(in *ProductInput) { in.Specifications[0].Value = "" }, MsgSpecValue},
		{"title too long", func(in *ProductInput) { in.Title = strings.Repeat("书", 51) }, "商品名称不能超过50个字符"},
		{"title of 50 characters", func(in *ProductInput) { in.Title = strings.Repeat("书", 50) }, ""},
		{
			"every violation, in order, joined by a full-width semicolon",
			func(in *ProductInput) {
				in.Title, in.Price, in.Rate = "", nil, 11
				in.Specifications = []SpecificationInput{{}, {}}
			},
			"商品名称不允许为空；商品应当有明确的价格；评分最高为10；商品规格名称不允许为空；商品规格内容不允许为空",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validInput()
			tt.modify(&in)
			p, err := NewProduct(in)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("NewProduct: %v", err)
				}
				return
			}
			if p != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("NewProduct = %v, %v; want ErrInvalid", p, err)
			}
			if err.Error() != tt.want {
				t.Errorf("message = %q, want %q", err.Error(), tt.want)
			}
		})
	}
}

func TestProductKeepsTwoDecimals(t *testing.T) {
	for _, f := range []float64{29.99, 0.01, 0.6, 129, 1234567.89} {
		p, err := NewProduct(ProductInput{Title: "t", Price: price(f)})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Price().Float64(); got != f {
			t.Errorf("price %v stored as %v", f, got)
		}
	}
}

func TestProductUpdateKeepsOwnSpecificationIDs(t *testing.T) {
	p := RestoreProduct(7, "old", 100, 1, "", "", "", []Specification{
		RestoreSpecification(70, "作者", "甲", 7),
		RestoreSpecification(71, "ISBN", "1", 7),
	})
	in := validInput()
	in.Specifications = []SpecificationInput{
		{ID: 71, Item: "ISBN", Value: "2"}, // kept
		{ID: 5, Item: "译者", Value: "乙"},    // another product's id: new row
		{ID: 71, Item: "ISBN", Value: "3"}, // the same id twice: second is new
		{Item: "页数", Value: "100"},         // new
	}
	if err := p.Update(in); err != nil {
		t.Fatal(err)
	}
	if p.ID() != 7 || p.Title() != in.Title || p.Price() != 2999 {
		t.Errorf("updated product = %d %q %d", p.ID(), p.Title(), p.Price())
	}
	var ids []int64
	for _, s := range p.Specifications() {
		ids = append(ids, s.ID())
		if s.ProductID() != 7 {
			t.Errorf("spec %q belongs to %d", s.Item(), s.ProductID())
		}
	}
	if want := []int64{71, 0, 0, 0}; !equal(ids, want) {
		t.Errorf("spec ids = %v, want %v", ids, want)
	}

	// A failed update leaves the product as it was.
	bad := validInput()
	bad.Title = ""
	if err := p.Update(bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Update(bad) = %v", err)
	}
	if p.Title() != in.Title {
		t.Errorf("failed update changed the title to %q", p.Title())
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestStockpileSetAmount(t *testing.T) {
	tests := []struct {
		amount  int32
		wantErr bool
	}{{0, false}, {30, false}, {-1, true}}
	for _, tt := range tests {
		s := RestoreStockpile(1, 1, 5, 3)
		err := s.SetAmount(tt.amount)
		if tt.wantErr {
			if !errors.Is(err, ErrInvalid) || err.Error() != MsgAmountMin || s.Amount() != 5 {
				t.Errorf("SetAmount(%d) = %v, amount %d", tt.amount, err, s.Amount())
			}
			continue
		}
		if err != nil || s.Amount() != tt.amount || s.Frozen() != 3 {
			t.Errorf("SetAmount(%d) = %v, amount %d frozen %d", tt.amount, err, s.Amount(), s.Frozen())
		}
	}
}
