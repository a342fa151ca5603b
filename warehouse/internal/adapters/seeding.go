package adapters

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"example.com/bookstore/common/db"
	"example.com/bookstore/warehouse/internal/adapters/seed"
	"example.com/bookstore/warehouse/internal/domain"
)

// seedName marks the Fenix seed in the seed table.
const seedName = "fenix-warehouse"

// errSeeded ends a seeding transaction that found the work done.
var errSeeded = errors.New("already seeded")

// Seed loads the Fenix seed data (8 products, 70 specifications, 8
// stockpiles, 3 advertisements) into an empty database. It runs once per
// database: the marker row it writes in the same transaction stops later
// starts, and concurrent starts of several replicas race on the marker's
// primary key, which exactly one wins.
func Seed(ctx context.Context, gdb *gorm.DB) (loaded bool, err error) {
	inserts, err := seed.Data()
	if err != nil {
		return false, err
	}
	rows, err := seedRows(inserts)
	if err != nil {
		return false, err
	}
	err = inTx(ctx, gdb, func(tx *gorm.DB) error {
		if err := tx.Create(&seedRow{Name: seedName}).Error; err != nil {
			if db.IsUniqueViolation(err) {
				return errSeeded
			}
			return fmt.Errorf("seed marker: %w", err)
		}
		var n int64
		if err := tx.Model(&productRow{}).Count(&n).Error; err != nil {
			return fmt.Errorf("seed: count products: %w", err)
		}
		if n > 0 {
			return nil // not empty: keep its data, remember not to look again
		}
		for _, batch := range rows {
			if err := tx.Create(batch).Error; err != nil {
				return fmt.Errorf("seed: %w", err)
			}
		}
		loaded = true
		return catalogueChanged(tx)
	})
	if errors.Is(err, errSeeded) {
		return false, nil
	}
	return loaded, err
}

// seedRows turns the seed's statements into pointers to row slices, in the
// file's table order. Columns are positional, as in the original schema (§6.3).
func seedRows(inserts []seed.Insert) ([]any, error) {
	var (
		products []productRow
		specs    []specificationRow
		stocks   []stockpileRow
		ads      []advertisementRow
		order    []string
	)
	seen := map[string]bool{}
	for _, st := range inserts {
		if !seen[st.Table] {
			seen[st.Table] = true
			order = append(order, st.Table)
		}
		for _, v := range st.Rows {
			c := cols{v: v}
			switch st.Table {
			case "product":
				c.want(7)
				products = append(products, productRow{
					ID: c.int(0), Title: c.str(1), PriceCents: int64(domain.CentsOf(c.float(2))), Rate: float32(c.float(3)),
					Description: c.str(4), Cover: c.str(5), Detail: c.str(6),
				})
			case "specification":
				c.want(4)
				specs = append(specs, specificationRow{ID: c.int(0), Item: c.str(1), Value: c.str(2), ProductID: c.int(3)})
			case "stockpile":
				c.want(4)
				stocks = append(stocks, stockpileRow{ID: c.int(0), Amount: int32(c.int(1)), Frozen: int32(c.int(2)), ProductID: c.int(3)})
			case "advertisement":
				c.want(3)
				ads = append(ads, advertisementRow{ID: c.int(0), Image: c.str(1), ProductID: c.int(2)})
			default:
				return nil, fmt.Errorf("seed: line %d: unknown table %q", st.Line, st.Table)
			}
			if c.err != nil {
				return nil, fmt.Errorf("seed: line %d: %s: %w", st.Line, st.Table, c.err)
			}
		}
	}
	byTable := map[string]any{"product": &products, "specification": &specs, "stockpile": &stocks, "advertisement": &ads}
	out := make([]any, 0, len(order))
	for _, t := range order {
		out = append(out, byTable[t])
	}
	return out, nil
}

// cols reads positional values, keeping the first error.
type cols struct {
	v   []seed.Value
	err error
}

func (c *cols) want(n int) {
	if len(c.v) != n && c.err == nil {
		c.err = fmt.Errorf("%d values, want %d", len(c.v), n)
	}
}

func (c *cols) at(i int) (seed.Value, bool) {
	if c.err != nil || i >= len(c.v) {
		return seed.Value{}, false
	}
	return c.v[i], true
}

func (c *cols) int(i int) int64 {
	v, ok := c.at(i)
	if !ok {
		return 0
	}
	n, err := v.Int()
	c.fail(i, err)
	return n
}

func (c *cols) float(i int) float64 {
	v, ok := c.at(i)
	if !ok {
		return 0
	}
	f, err := v.Float()
	c.fail(i, err)
	return f
}

func (c *cols) str(i int) string {
	v, ok := c.at(i)
	if !ok {
		return ""
	}
	s, err := v.String()
	c.fail(i, err)
	return s
}

func (c *cols) fail(i int, err error) {
	if err != nil && c.err == nil {
		c.err = fmt.Errorf("column %d: %w", i+1, err)
	}
}
