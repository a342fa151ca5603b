package command

import (
	"context"

	"example.com/bookstore/warehouse/internal/domain"
)

// UpdateProduct replaces a product's fields and specifications.
type UpdateProduct struct {
	ID      int64
	Product domain.ProductInput
}

type UpdateProductHandler struct {
	products domain.ProductRepository
}

func NewUpdateProductHandler(products domain.ProductRepository) UpdateProductHandler {
	return UpdateProductHandler{products: products}
}

// Handle returns the product as stored.
func (h UpdateProductHandler) Handle(ctx context.Context, cmd UpdateProduct) (*domain.Product, error) {
	// Bad input is reported as such even for an unknown id, as bean
	// validation did before the original looked anything up.
	if _, err := domain.NewProduct(cmd.Product); err != nil {
		return nil, err
	}
	return h.products.UpdateProduct(ctx, cmd.ID, func(p *domain.Product) error {
		return p.Update(cmd.Product)
	})
}
