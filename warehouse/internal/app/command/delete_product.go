package command

import (
	"context"

	"example.com/bookstore/warehouse/internal/domain"
)

// DeleteProduct removes a product with its specifications, stockpile and
// advertisements.
type DeleteProduct struct {
	ID int64
}

type DeleteProductHandler struct {
	products domain.ProductRepository
}

func NewDeleteProductHandler(products domain.ProductRepository) DeleteProductHandler {
	return DeleteProductHandler{products: products}
}

func (h DeleteProductHandler) Handle(ctx context.Context, cmd DeleteProduct) error {
	return h.products.DeleteProduct(ctx, cmd.ID)
}
