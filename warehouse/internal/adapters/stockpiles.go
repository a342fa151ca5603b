package adapters

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"example.com/bookstore/warehouse/internal/domain"
)

// Stockpiles is the gorm domain.StockpileRepository.
type Stockpiles struct {
	db *gorm.DB
}

func NewStockpiles(db *gorm.DB) *Stockpiles { return &Stockpiles{db: db} }

var _ domain.StockpileRepository = (*Stockpiles)(nil)

func (r *Stockpiles) GetStockpile(ctx context.Context, productID int64) (*domain.Stockpile, error) {
	return getStockpile(r.db.WithContext(ctx), productID, false)
}

func getStockpile(tx *gorm.DB, productID int64, lock bool) (*domain.Stockpile, error) {
	if lock {
		tx = tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	var row stockpileRow
	err := tx.Where("product_id = ?", productID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, domain.StockpileNotFound(productID)
	}
	if err != nil {
		return nil, fmt.Errorf("get stockpile of %d: %w", productID, err)
	}
	return domain.RestoreStockpile(row.ID, row.ProductID, row.Amount, row.Frozen), nil
}

func (r *Stockpiles) UpdateAmount(ctx context.Context, productID int64, update func(*domain.Stockpile) error) error {
	return inTx(ctx, r.db, func(tx *gorm.DB) error {
		s, err := getStockpile(tx, productID, true)
		if err != nil {
			return err
		}
		if err := update(s); err != nil {
			return err
		}
		err = tx.Model(&stockpileRow{}).Where("product_id = ?", productID).Update("amount", s.Amount()).Error
		if err != nil {
			return fmt.Errorf("set stockpile of %d: %w", productID, err)
		}
		return nil
	})
}

// Advertisements is the gorm domain.AdvertisementRepository.
type Advertisements struct {
	db *gorm.DB
}

func NewAdvertisements(db *gorm.DB) *Advertisements { return &Advertisements{db: db} }

var _ domain.AdvertisementRepository = (*Advertisements)(nil)

func (r *Advertisements) ListAdvertisements(ctx context.Context) ([]domain.Advertisement, error) {
	var rows []advertisementRow
	if err := r.db.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list advertisements: %w", err)
	}
	out := make([]domain.Advertisement, len(rows))
	for i, a := range rows {
		out[i] = domain.Advertisement{ID: a.ID, Image: a.Image, ProductID: a.ProductID}
	}
	return out, nil
}
