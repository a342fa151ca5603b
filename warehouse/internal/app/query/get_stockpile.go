package query

import (
	"context"

	"example.com/bookstore/warehouse/internal/domain"
)

type GetStockpileHandler struct {
	stockpiles domain.StockpileRepository
}

func NewGetStockpileHandler(stockpiles domain.StockpileRepository) GetStockpileHandler {
	return GetStockpileHandler{stockpiles: stockpiles}
}

// Handle looks the stock up by product id (the original used the stockpile
// id, which only matched for seeded products: contract §14.5).
func (h GetStockpileHandler) Handle(ctx context.Context, productID int64) (*domain.Stockpile, error) {
	return h.stockpiles.GetStockpile(ctx, productID)
}
