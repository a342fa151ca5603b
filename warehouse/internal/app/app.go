// Package app holds the warehouse's use cases, one per file under command/
// and query/, over the domain's repository interfaces.
package app

import (
	"example.com/bookstore/warehouse/internal/app/command"
	"example.com/bookstore/warehouse/internal/app/query"
	"example.com/bookstore/warehouse/internal/domain"
)

// Application is every use case of the service.
type Application struct {
	Commands Commands
	Queries  Queries
}

// Commands change state.
type Commands struct {
	CreateProduct command.CreateProductHandler
	UpdateProduct command.UpdateProductHandler
	DeleteProduct command.DeleteProductHandler
	SetStockpile  command.SetStockpileHandler
	Freeze        command.FreezeHandler
	Thaw          command.ThawHandler
	Decrease      command.DecreaseHandler
}

// Queries only read.
type Queries struct {
	ListProducts       query.ListProductsHandler
	CatalogueVersion   query.CatalogueVersionHandler
	GetStockpile       query.GetStockpileHandler
	ListAdvertisements query.ListAdvertisementsHandler
}

// Repositories are what the use cases need from storage.
type Repositories struct {
	Products       domain.ProductRepository
	Stockpiles     domain.StockpileRepository
	Advertisements domain.AdvertisementRepository
	Reservations   domain.ReservationRepository
}

// New wires the use cases to their repositories.
func New(r Repositories) Application {
	return Application{
		Commands: Commands{
			CreateProduct: command.NewCreateProductHandler(r.Products),
			UpdateProduct: command.NewUpdateProductHandler(r.Products),
			DeleteProduct: command.NewDeleteProductHandler(r.Products),
			SetStockpile:  command.NewSetStockpileHandler(r.Stockpiles),
			Freeze:        command.NewFreezeHandler(r.Products, r.Reservations),
			Thaw:          command.NewThawHandler(r.Reservations),
			Decrease:      command.NewDecreaseHandler(r.Reservations),
		},
		Queries: Queries{
			ListProducts:       query.NewListProductsHandler(r.Products),
			CatalogueVersion:   query.NewCatalogueVersionHandler(r.Products),
			GetStockpile:       query.NewGetStockpileHandler(r.Stockpiles),
			ListAdvertisements: query.NewListAdvertisementsHandler(r.Advertisements),
		},
	}
}
