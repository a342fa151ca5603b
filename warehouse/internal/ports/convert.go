package ports

import (
	"example.com/bookstore/idl/kitex_gen/warehouse"
	"example.com/bookstore/warehouse/internal/domain"
)

func productToIDL(p *domain.Product) *warehouse.Product {
	price := p.Price().Float64()
	specs := p.Specifications()
	out := &warehouse.Product{
		Id:             p.ID(),
		Title:          p.Title(),
		Price:          &price,
		Rate:           p.Rate(),
		Description:    p.Description(),
		Cover:          p.Cover(),
		Detail:         p.Detail(),
		Specifications: make([]*warehouse.Specification, len(specs)),
	}
	for i, s := range specs {
		out.Specifications[i] = &warehouse.Specification{Id: s.ID(), Item: s.Item(), Value: s.Value(), ProductId: s.ProductID()}
	}
	return out
}

func productFromIDL(p *warehouse.Product) domain.ProductInput {
	in := domain.ProductInput{
		Title:       p.GetTitle(),
		Rate:        p.GetRate(),
		Description: p.GetDescription(),
		Cover:       p.GetCover(),
		Detail:      p.GetDetail(),
	}
	if p != nil && p.Price != nil {
		price := *p.Price
		in.Price = &price
	}
	for _, s := range p.GetSpecifications() {
		in.Specifications = append(in.Specifications, domain.SpecificationInput{ID: s.GetId(), Item: s.GetItem(), Value: s.GetValue()})
	}
	return in
}

func pricedItemsToIDL(items []domain.PricedItem) []*warehouse.PricedItem {
	out := make([]*warehouse.PricedItem, len(items))
	for i, it := range items {
		out[i] = &warehouse.PricedItem{ProductId: it.ProductID, Amount: it.Amount, Price: it.Price.Float64()}
	}
	return out
}
