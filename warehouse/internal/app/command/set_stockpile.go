package command

import (
	"context"

	"example.com/bookstore/warehouse/internal/domain"
)

// SetStockpile sets the amount for sale of a product; frozen stock stays.
type SetStockpile struct {
	ProductID int64
	Amount    int32
}

type SetStockpileHandler struct {
	stockpiles domain.StockpileRepository
}

func NewSetStockpileHandler(stockpiles domain.StockpileRepository) SetStockpileHandler {
	return SetStockpileHandler{stockpiles: stockpiles}
}

func (h SetStockpileHandler) Handle(ctx context.Context, cmd SetStockpile) error {
	return h.stockpiles.UpdateAmount(ctx, cmd.ProductID, func(s *domain.Stockpile) error {
		return s.SetAmount(cmd.Amount)
	})
}
