// Package query holds the warehouse's read-only use cases.
package query

import (
	"context"

	"example.com/bookstore/warehouse/internal/domain"
)

type ListProductsHandler struct {
	products domain.ProductRepository
}

func NewListProductsHandler(products domain.ProductRepository) ListProductsHandler {
	return ListProductsHandler{products: products}
}

// Handle returns the whole catalogue, ordered by id.
func (h ListProductsHandler) Handle(ctx context.Context) ([]*domain.Product, error) {
	return h.products.ListProducts(ctx)
}
