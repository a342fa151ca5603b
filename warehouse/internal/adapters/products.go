package adapters

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"example.com/bookstore/warehouse/internal/domain"
)

// Products is the gorm domain.ProductRepository.
type Products struct {
	db *gorm.DB
}

func NewProducts(db *gorm.DB) *Products { return &Products{db: db} }

var _ domain.ProductRepository = (*Products)(nil)

func (r *Products) ListProducts(ctx context.Context) ([]*domain.Product, error) {
	var rows []productRow
	if err := r.db.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	var specs []specificationRow
	if err := r.db.WithContext(ctx).Order("id").Find(&specs).Error; err != nil {
		return nil, fmt.Errorf("list specifications: %w", err)
	}
	byProduct := make(map[int64][]specificationRow, len(rows))
	for _, s := range specs {
		byProduct[s.ProductID] = append(byProduct[s.ProductID], s)
	}
	out := make([]*domain.Product, len(rows))
	for i, p := range rows {
		out[i] = toProduct(p, byProduct[p.ID])
	}
	return out, nil
}

// CatalogueVersion implements domain.ProductRepository.
func (r *Products) CatalogueVersion(ctx context.Context) (int64, error) {
	var v int64
	err := r.db.WithContext(ctx).Raw("SELECT version FROM catalogue_version WHERE id = 1").Scan(&v).Error
	if err != nil {
		return 0, fmt.Errorf("catalogue version: %w", err)
	}
	return v, nil
}

// catalogueChanged increments the catalogue's version in the transaction of
// a product write.
func catalogueChanged(tx *gorm.DB) error {
	if err := tx.Model(&catalogueRow{}).Where("id = 1").Update("version", gorm.Expr("version + 1")).Error; err != nil {
		return fmt.Errorf("catalogue version: %w", err)
	}
	return nil
}

// getProduct loads a product and its specifications; lock takes the row
// lock (MySQL; SQLite's writer already holds the whole database).
func getProduct(tx *gorm.DB, id int64, lock bool) (*domain.Product, error) {
	q := tx
	if lock {
		q = q.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	var row productRow
	err := q.Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, domain.ProductNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get product %d: %w", id, err)
	}
	var specs []specificationRow
	if err := tx.Where("product_id = ?", id).Order("id").Find(&specs).Error; err != nil {
		return nil, fmt.Errorf("get specifications of %d: %w", id, err)
	}
	return toProduct(row, specs), nil
}

func (r *Products) Prices(ctx context.Context, ids []int64) (map[int64]domain.Cents, error) {
	var rows []productRow
	if err := r.db.WithContext(ctx).Select("id", "price_cents").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("prices: %w", err)
	}
	out := make(map[int64]domain.Cents, len(rows))
	for _, p := range rows {
		out[p.ID] = domain.Cents(p.PriceCents)
	}
	return out, nil
}

func (r *Products) AddProduct(ctx context.Context, p *domain.Product) (*domain.Product, error) {
	var stored *domain.Product
	err := inTx(ctx, r.db, func(tx *gorm.DB) error {
		row := fromProduct(p)
		row.ID = 0
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("insert product: %w", err)
		}
		specIDs, err := insertSpecifications(tx, row.ID, p.Specifications())
		if err != nil {
			return err
		}
		// stockpile.id == product_id, as in the seed data (§6.3): both
		// readings of the original's stock lookup then name the same row.
		stock := stockpileRow{ID: row.ID, ProductID: row.ID}
		if err := tx.Create(&stock).Error; err != nil {
			return fmt.Errorf("insert stockpile: %w", err)
		}
		stored = p.WithID(row.ID, specIDs)
		return catalogueChanged(tx)
	})
	return stored, err
}

func (r *Products) UpdateProduct(ctx context.Context, id int64, update func(*domain.Product) error) (*domain.Product, error) {
	var stored *domain.Product
	err := inTx(ctx, r.db, func(tx *gorm.DB) error {
		p, err := getProduct(tx, id, true)
		if err != nil {
			return err
		}
		if err := update(p); err != nil {
			return err
		}
		row := fromProduct(p)
		// Select("*") writes zero values too (a price or rate set to 0).
		if err := tx.Model(&productRow{}).Where("id = ?", id).Select("*").Omit("id").Updates(&row).Error; err != nil {
			return fmt.Errorf("update product %d: %w", id, err)
		}
		if err := tx.Where("product_id = ?", id).Delete(&specificationRow{}).Error; err != nil {
			return fmt.Errorf("delete specifications of %d: %w", id, err)
		}
		specIDs, err := insertSpecifications(tx, id, p.Specifications())
		if err != nil {
			return err
		}
		stored = p.WithID(id, specIDs)
		return catalogueChanged(tx)
	})
	return stored, err
}

// insertSpecifications inserts specs one by one (a handful per product), so
// that kept ids and new ones can mix, and returns their ids in order.
func insertSpecifications(tx *gorm.DB, productID int64, specs []domain.Specification) ([]int64, error) {
	ids := make([]int64, len(specs))
	for i, s := range specs {
		row := specificationRow{ID: s.ID(), Item: s.Item(), Value: s.Value(), ProductID: productID}
		if err := tx.Create(&row).Error; err != nil {
			return nil, fmt.Errorf("insert specification: %w", err)
		}
		ids[i] = row.ID
	}
	return ids, nil
}

func (r *Products) DeleteProduct(ctx context.Context, id int64) error {
	return inTx(ctx, r.db, func(tx *gorm.DB) error {
		res := tx.Where("id = ?", id).Delete(&productRow{})
		if res.Error != nil {
			return fmt.Errorf("delete product %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return domain.ProductNotFound(id)
		}
		for _, m := range []any{&specificationRow{}, &stockpileRow{}, &advertisementRow{}} {
			if err := tx.Where("product_id = ?", id).Delete(m).Error; err != nil {
				return fmt.Errorf("delete dependants of product %d: %w", id, err)
			}
		}
		return catalogueChanged(tx)
	})
}

func toProduct(p productRow, specs []specificationRow) *domain.Product {
	ds := make([]domain.Specification, len(specs))
	for i, s := range specs {
		ds[i] = domain.RestoreSpecification(s.ID, s.Item, s.Value, s.ProductID)
	}
	return domain.RestoreProduct(p.ID, p.Title, domain.Cents(p.PriceCents), p.Rate, p.Description, p.Cover, p.Detail, ds)
}

func fromProduct(p *domain.Product) productRow {
	return productRow{
		ID:          p.ID(),
		Title:       p.Title(),
		PriceCents:  int64(p.Price()),
		Rate:        p.Rate(),
		Description: p.Description(),
		Cover:       p.Cover(),
		Detail:      p.Detail(),
	}
}
