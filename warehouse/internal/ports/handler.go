package ports

import (
	"context"

	"example.com/bookstore/idl/kitex_gen/warehouse"
	"example.com/bookstore/warehouse/internal/app"
	"example.com/bookstore/warehouse/internal/app/command"
	"example.com/bookstore/warehouse/internal/domain"
)

// Handler implements the generated warehouse.WarehouseService.
type Handler struct {
	app      app.Application
	products *productReadModel
}

var _ warehouse.WarehouseService = (*Handler)(nil)

// NewHandler returns the Kitex handler over the application.
func NewHandler(a app.Application) *Handler {
	h := &Handler{app: a}
	h.products = newProductReadModel(a.Queries.CatalogueVersion.Handle, func(ctx context.Context) ([]*warehouse.Product, error) {
		ps, err := a.Queries.ListProducts.Handle(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]*warehouse.Product, len(ps))
		for i, p := range ps {
			out[i] = productToIDL(p)
		}
		return out, nil
	})
	return h
}

func (h *Handler) ListProducts(ctx context.Context, _ *warehouse.ListProductsRequest) (resp *warehouse.ListProductsResponse, err error) {
	defer recoverPanic(ctx, "ListProducts", &err)
	list, err := h.products.List(ctx)
	if err != nil {
		return nil, toRPC(ctx, "ListProducts", err)
	}
	return &warehouse.ListProductsResponse{Products: list}, nil
}

func (h *Handler) GetProduct(ctx context.Context, req *warehouse.ProductIdRequest) (resp *warehouse.Product, err error) {
	defer recoverPanic(ctx, "GetProduct", &err)
	p, ok, err := h.products.Get(ctx, req.GetId())
	if err != nil {
		return nil, toRPC(ctx, "GetProduct", err)
	}
	if !ok {
		return nil, toRPC(ctx, "GetProduct", domain.ProductNotFound(req.GetId()))
	}
	return p, nil
}

func (h *Handler) CreateProduct(ctx context.Context, req *warehouse.ProductRequest) (resp *warehouse.Product, err error) {
	defer recoverPanic(ctx, "CreateProduct", &err)
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	p, err := h.app.Commands.CreateProduct.Handle(ctx, command.CreateProduct{Product: productFromIDL(req.GetProduct())})
	if err != nil {
		return nil, toRPC(ctx, "CreateProduct", err)
	}
	return productToIDL(p), nil
}

func (h *Handler) UpdateProduct(ctx context.Context, req *warehouse.ProductRequest) (resp *warehouse.Product, err error) {
	defer recoverPanic(ctx, "UpdateProduct", &err)
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	cmd := command.UpdateProduct{ID: req.GetProduct().GetId(), Product: productFromIDL(req.GetProduct())}
	p, err := h.app.Commands.UpdateProduct.Handle(ctx, cmd)
	if err != nil {
		return nil, toRPC(ctx, "UpdateProduct", err)
	}
	return productToIDL(p), nil
}

func (h *Handler) DeleteProduct(ctx context.Context, req *warehouse.ProductIdRequest) (resp *warehouse.Empty, err error) {
	defer recoverPanic(ctx, "DeleteProduct", &err)
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	if err := h.app.Commands.DeleteProduct.Handle(ctx, command.DeleteProduct{ID: req.GetId()}); err != nil {
		return nil, toRPC(ctx, "DeleteProduct", err)
	}
	return &warehouse.Empty{}, nil
}

func (h *Handler) GetStockpile(ctx context.Context, req *warehouse.StockpileRequest) (resp *warehouse.Stockpile, err error) {
	defer recoverPanic(ctx, "GetStockpile", &err)
	if err := requireAdminOrService(ctx); err != nil {
		return nil, err
	}
	s, err := h.app.Queries.GetStockpile.Handle(ctx, req.GetProductId())
	if err != nil {
		return nil, toRPC(ctx, "GetStockpile", err)
	}
	return &warehouse.Stockpile{Id: s.ID(), ProductId: s.ProductID(), Amount: s.Amount(), Frozen: s.Frozen()}, nil
}

func (h *Handler) SetStockpile(ctx context.Context, req *warehouse.SetStockpileRequest) (resp *warehouse.Empty, err error) {
	defer recoverPanic(ctx, "SetStockpile", &err)
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	err = h.app.Commands.SetStockpile.Handle(ctx, command.SetStockpile{ProductID: req.GetProductId(), Amount: req.GetAmount()})
	if err != nil {
		return nil, toRPC(ctx, "SetStockpile", err)
	}
	return &warehouse.Empty{}, nil
}

func (h *Handler) ListAdvertisements(ctx context.Context, _ *warehouse.ListAdvertisementsRequest) (resp *warehouse.ListAdvertisementsResponse, err error) {
	defer recoverPanic(ctx, "ListAdvertisements", &err)
	ads, err := h.app.Queries.ListAdvertisements.Handle(ctx)
	if err != nil {
		return nil, toRPC(ctx, "ListAdvertisements", err)
	}
	out := make([]*warehouse.Advertisement, len(ads))
	for i, a := range ads {
		out[i] = &warehouse.Advertisement{Id: a.ID, Image: a.Image, ProductId: a.ProductID}
	}
	return &warehouse.ListAdvertisementsResponse{Advertisements: out}, nil
}

func (h *Handler) Freeze(ctx context.Context, req *warehouse.FreezeRequest) (resp *warehouse.FreezeResponse, err error) {
	defer recoverPanic(ctx, "Freeze", &err)
	if err := requireService(ctx); err != nil {
		return nil, err
	}
	items := make([]domain.Item, len(req.GetItems()))
	for i, it := range req.GetItems() {
		items[i] = domain.Item{ProductID: it.GetProductId(), Amount: it.GetAmount()}
	}
	priced, err := h.app.Commands.Freeze.Handle(ctx, command.Freeze{PayID: req.GetPayId(), Items: items})
	if err != nil {
		return nil, toRPC(ctx, "Freeze", err)
	}
	return &warehouse.FreezeResponse{Items: pricedItemsToIDL(priced)}, nil
}

func (h *Handler) Thaw(ctx context.Context, req *warehouse.ReservationRequest) (resp *warehouse.Empty, err error) {
	defer recoverPanic(ctx, "Thaw", &err)
	if err := requireService(ctx); err != nil {
		return nil, err
	}
	if err := h.app.Commands.Thaw.Handle(ctx, command.Thaw{PayID: req.GetPayId()}); err != nil {
		return nil, toRPC(ctx, "Thaw", err)
	}
	return &warehouse.Empty{}, nil
}

func (h *Handler) Decrease(ctx context.Context, req *warehouse.ReservationRequest) (resp *warehouse.Empty, err error) {
	defer recoverPanic(ctx, "Decrease", &err)
	if err := requireService(ctx); err != nil {
		return nil, err
	}
	if err := h.app.Commands.Decrease.Handle(ctx, command.Decrease{PayID: req.GetPayId()}); err != nil {
		return nil, toRPC(ctx, "Decrease", err)
	}
	return &warehouse.Empty{}, nil
}
