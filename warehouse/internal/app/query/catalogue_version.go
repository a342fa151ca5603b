package query

import (
	"context"

	"example.com/bookstore/warehouse/internal/domain"
)

type CatalogueVersionHandler struct {
	products domain.ProductRepository
}

func NewCatalogueVersionHandler(products domain.ProductRepository) CatalogueVersionHandler {
	return CatalogueVersionHandler{products: products}
}

// Handle returns the catalogue's version: a copy of the catalogue read under
// it is current until it changes.
func (h CatalogueVersionHandler) Handle(ctx context.Context) (int64, error) {
	return h.products.CatalogueVersion(ctx)
}
