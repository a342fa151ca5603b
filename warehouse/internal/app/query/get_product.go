package query

import (
	"context"

	"example.com/bookstore/warehouse/internal/domain"
)

type GetProductHandler struct {
	products domain.ProductRepository
}

func NewGetProductHandler(products domain.ProductRepository) GetProductHandler {
	return GetProductHandler{products: products}
}

func (h GetProductHandler) Handle(ctx context.Context, id int64) (*domain.Product, error) {
	return h.products.GetProduct(ctx, id)
}
