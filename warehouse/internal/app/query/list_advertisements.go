package query

import (
	"context"

	"example.com/bookstore/warehouse/internal/domain"
)

type ListAdvertisementsHandler struct {
	advertisements domain.AdvertisementRepository
}

func NewListAdvertisementsHandler(advertisements domain.AdvertisementRepository) ListAdvertisementsHandler {
	return ListAdvertisementsHandler{advertisements: advertisements}
}

func (h ListAdvertisementsHandler) Handle(ctx context.Context) ([]domain.Advertisement, error) {
	return h.advertisements.ListAdvertisements(ctx)
}
