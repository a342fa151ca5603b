package adapters

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"example.com/bookstore/common/db"
)

// Before payments held their items and purchase as JSON in their own row
// (paymentModel.Items, .Purchase), these two tables held them. Migrate
// copies what a database of that version still keeps in them into the
// payment rows and then drops the tables; a database created since never
// has them.

type legacyItemModel struct {
	ID         int64  `gorm:"primaryKey;autoIncrement"`
	PayID      string `gorm:"size:36;not null;index:idx_payment_item_pay_id"`
	ProductID  int64  `gorm:"not null"`
	Amount     int32  `gorm:"not null"`
	PriceCents int64  `gorm:"not null"`
}

func (legacyItemModel) TableName() string { return "payment_item" }

type legacyPurchaseModel struct {
	PayID     string `gorm:"primaryKey;size:36"`
	Delivery  bool   `gorm:"not null"`
	Pay       string `gorm:"type:text;not null"`
	Name      string `gorm:"type:text;not null"`
	Telephone string `gorm:"type:text;not null"`
	Location  string `gorm:"type:text;not null"`
}

func (legacyPurchaseModel) TableName() string { return "purchase" }

// legacyBatch is how many payments one transaction of the copy moves.
const legacyBatch = 500

// migrateLegacyItems moves the legacy tables' rows into the payment rows
// that lack them, in batches, each batch in a transaction; then drops the
// tables. Replicas starting together may both copy a batch: the JSON they
// write is the same, and a payment already filled is skipped. The tables
// go only after every payment was filled, so a crash at any point leaves
// a state the next start finishes.
func migrateLegacyItems(ctx context.Context, gdb *gorm.DB) error {
	m := gdb.WithContext(ctx).Migrator()
	if !m.HasTable(&legacyItemModel{}) || !m.HasTable(&legacyPurchaseModel{}) {
		return nil
	}
	for {
		var ids []string
		err := gdb.WithContext(ctx).Model(&paymentModel{}).Where("items = ''").
			Order("id").Limit(legacyBatch).Pluck("pay_id", &ids).Error
		if err != nil {
			return fmt.Errorf("migrate legacy items: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		if err := db.Transaction(ctx, gdb, func(tx *gorm.DB) error { return copyLegacyItems(tx, ids) }); err != nil {
			return fmt.Errorf("migrate legacy items: %w", err)
		}
	}
	if err := m.DropTable(&legacyItemModel{}, &legacyPurchaseModel{}); err != nil {
		return fmt.Errorf("migrate legacy items: drop tables: %w", err)
	}
	return nil
}

func copyLegacyItems(tx *gorm.DB, payIDs []string) error {
	var items []legacyItemModel
	if err := tx.Where("pay_id IN ?", payIDs).Order("id").Find(&items).Error; err != nil {
		return err
	}
	var purchases []legacyPurchaseModel
	if err := tx.Where("pay_id IN ?", payIDs).Find(&purchases).Error; err != nil {
		return err
	}
	byPay := make(map[string][]itemJSON, len(payIDs))
	for _, it := range items {
		byPay[it.PayID] = append(byPay[it.PayID], itemJSON{ProductID: it.ProductID, Amount: it.Amount, PriceCents: it.PriceCents})
	}
	purchaseOf := make(map[string]purchaseJSON, len(purchases))
	for _, pu := range purchases {
		purchaseOf[pu.PayID] = purchaseJSON{Delivery: pu.Delivery, Pay: pu.Pay, Name: pu.Name, Telephone: pu.Telephone, Location: pu.Location}
	}
	for _, id := range payIDs {
		itemsData, err := json.Marshal(byPay[id])
		if err != nil {
			return err
		}
		purchaseData, err := json.Marshal(purchaseOf[id])
		if err != nil {
			return err
		}
		// A payment always has items; a missing list is stored as [] (not
		// "null"), so the row no longer counts as not copied.
		if byPay[id] == nil {
			itemsData = []byte("[]")
		}
		if err := tx.Model(&paymentModel{}).Where("pay_id = ? AND items = ''", id).
			Updates(map[string]any{"items": string(itemsData), "purchase": string(purchaseData)}).Error; err != nil {
			return err
		}
	}
	return nil
}
