package domain

import "context"

// ProductRepository stores the catalogue. Unknown ids give ProductNotFound.
type ProductRepository interface {
	ListProducts(ctx context.Context) ([]*Product, error)
	// CatalogueVersion changes with every product write (create, update,
	// delete), committed with it: a catalogue read after it under the
	// same version is still current.
	CatalogueVersion(ctx context.Context) (int64, error)
	// Prices returns the unit prices of the products that exist among ids.
	Prices(ctx context.Context, ids []int64) (map[int64]Cents, error)
	// AddProduct stores p under a new id together with its empty stockpile
	// (amount 0, frozen 0) and returns it as stored.
	AddProduct(ctx context.Context, p *Product) (*Product, error)
	// UpdateProduct runs update on the stored product and stores the result,
	// specifications replaced, in one transaction.
	UpdateProduct(ctx context.Context, id int64, update func(*Product) error) (*Product, error)
	// DeleteProduct removes the product with its specifications, stockpile
	// and advertisements.
	DeleteProduct(ctx context.Context, id int64) error
}

// StockpileRepository stores stock by product id. Unknown products give
// StockpileNotFound.
type StockpileRepository interface {
	GetStockpile(ctx context.Context, productID int64) (*Stockpile, error)
	// UpdateAmount runs update on the stockpile and stores its amount (frozen is
	// never written, so concurrent reservations are not lost).
	UpdateAmount(ctx context.Context, productID int64, update func(*Stockpile) error) error
}

// AdvertisementRepository lists the carousel.
type AdvertisementRepository interface {
	ListAdvertisements(ctx context.Context) ([]Advertisement, error)
}

// ReservationRepository stores stock reservations by pay id.
type ReservationRepository interface {
	// GetReservation gives ReservationNotFound for an unknown pay id.
	GetReservation(ctx context.Context, payID string) (*Reservation, error)
	// AddReservation stores r and, when r is FROZEN, moves each item from
	// amount to frozen, all in one transaction: if any product is short it
	// returns InsufficientStock (an unknown product ProductNotFound) and
	// changes nothing. If the pay id is taken it returns ErrReservationExists.
	AddReservation(ctx context.Context, r *Reservation) error
	// UpdateReservation runs update on the stored reservation; when its state
	// changed, the returned stock changes and the new state are stored in one
	// transaction, the state as a compare-and-set on the old one.
	UpdateReservation(ctx context.Context, payID string, update func(*Reservation) ([]StockChange, error)) error
}
