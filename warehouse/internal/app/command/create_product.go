// Package command holds the warehouse's state-changing use cases.
package command

import (
	"context"

	"example.com/bookstore/warehouse/internal/domain"
)

// CreateProduct adds a product to the catalogue, with an empty stockpile.
type CreateProduct struct {
	Product domain.ProductInput
}

type CreateProductHandler struct {
	products domain.ProductRepository
}

func NewCreateProductHandler(products domain.ProductRepository) CreateProductHandler {
	return CreateProductHandler{products: products}
}

// Handle returns the product as stored, with its new id and specification ids.
func (h CreateProductHandler) Handle(ctx context.Context, cmd CreateProduct) (*domain.Product, error) {
	p, err := domain.NewProduct(cmd.Product)
	if err != nil {
		return nil, err
	}
	return h.products.AddProduct(ctx, p)
}
