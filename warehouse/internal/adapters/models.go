// Package adapters stores the warehouse's domain in its database through
// gorm (SQLite or MySQL, see common/db). The gorm models here are separate
// from the domain types; they follow the original schema (contract §6.3)
// plus the reservation table, with prices in exact cents.
package adapters

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

type productRow struct {
	ID          int64   `gorm:"primaryKey;autoIncrement"`
	Title       string  `gorm:"size:50;not null;index:product_title"`
	PriceCents  int64   `gorm:"not null"`
	Rate        float32 `gorm:"not null"`
	Description string  `gorm:"type:text;not null"`
	Cover       string  `gorm:"size:100;not null"`
	Detail      string  `gorm:"size:100;not null"`
}

func (productRow) TableName() string { return "product" }

type specificationRow struct {
	ID        int64  `gorm:"primaryKey;autoIncrement"`
	Item      string `gorm:"size:50;not null"`
	Value     string `gorm:"size:100;not null"`
	ProductID int64  `gorm:"not null;index"`
}

func (specificationRow) TableName() string { return "specification" }

type stockpileRow struct {
	ID        int64 `gorm:"primaryKey;autoIncrement"`
	Amount    int32 `gorm:"not null"`
	Frozen    int32 `gorm:"not null"`
	ProductID int64 `gorm:"not null;uniqueIndex"`
}

func (stockpileRow) TableName() string { return "stockpile" }

type advertisementRow struct {
	ID        int64  `gorm:"primaryKey;autoIncrement"`
	Image     string `gorm:"size:100;not null"`
	ProductID int64  `gorm:"not null;index"`
}

func (advertisementRow) TableName() string { return "advertisement" }

// reservationRow is one settlement's stock reservation. Its items never
// change after the freeze, so they are kept as a JSON snapshot in the row
// rather than in a table of their own.
type reservationRow struct {
	ID        int64  `gorm:"primaryKey;autoIncrement"`
	PayID     string `gorm:"size:100;not null;uniqueIndex"`
	State     string `gorm:"size:16;not null"`
	Items     string `gorm:"type:text;not null"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (reservationRow) TableName() string { return "reservation" }

// seedRow marks that the seed data was loaded, so that it is loaded once
// per database even if every product is deleted later.
type seedRow struct {
	Name      string `gorm:"primaryKey;size:64"`
	CreatedAt time.Time
}

func (seedRow) TableName() string { return "seed" }

// catalogueRow is the catalogue's version, in a table of one row: every
// product write increments it in its own transaction. Each replica keeps
// the catalogue in memory (ports.productReadModel) and compares versions
// before answering, so a write through one replica is seen by the next read
// on any other.
type catalogueRow struct {
	ID      int64 `gorm:"primaryKey;autoIncrement:false"`
	Version int64 `gorm:"not null"`
}

func (catalogueRow) TableName() string { return "catalogue_version" }

// Migrate creates or updates the warehouse's tables.
func Migrate(ctx context.Context, db *gorm.DB) error {
	err := db.WithContext(ctx).AutoMigrate(
		&productRow{}, &specificationRow{}, &stockpileRow{}, &advertisementRow{},
		&reservationRow{}, &seedRow{}, &catalogueRow{},
	)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&catalogueRow{ID: 1}).Error; err != nil {
		return fmt.Errorf("migrate: catalogue version: %w", err)
	}
	return nil
}
