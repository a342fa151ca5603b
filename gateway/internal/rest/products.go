package rest

import (
	"context"
	"errors"

	"github.com/cloudwego/hertz/pkg/app"

	"example.com/bookstore/gateway/internal/clients"
	"example.com/bookstore/gateway/internal/decode"
	"example.com/bookstore/gateway/internal/httperr"
	"example.com/bookstore/gateway/internal/view"
	"example.com/bookstore/idl/kitex_gen/warehouse"
)

func warehouseErr(err error, op httperr.Op) error {
	return httperr.FromRPC(err, clients.Warehouse, op)
}

// listProducts is W1, anonymous.
func (h *Handlers) listProducts(ctx context.Context, c *app.RequestContext) error {
	if h.catalogue.serve(c, keyProducts) {
		return nil
	}
	gen := h.catalogue.generation()
	resp, err := h.clients.Warehouse.ListProducts(callerOf(c).Context(ctx), &warehouse.ListProductsRequest{}, h.clients.Opts(clients.Warehouse)...)
	if err != nil {
		return warehouseErr(err, httperr.Read)
	}
	return h.renderKept(ctx, c, keyProducts, gen, view.ProductsOf(resp.GetProducts()))
}

// getProduct is W2, anonymous; 204 if unknown.
func (h *Handlers) getProduct(ctx context.Context, c *app.RequestContext) error {
	id, err := decode.ID(c.Param("id"), "商品ID")
	if err != nil {
		return err
	}
	key := productKey(id)
	if h.catalogue.serve(c, key) {
		return nil
	}
	gen := h.catalogue.generation()
	p, err := h.clients.Warehouse.GetProduct(callerOf(c).Context(ctx), &warehouse.ProductIdRequest{Id: id}, h.clients.Opts(clients.Warehouse)...)
	if err != nil {
		return warehouseErr(err, httperr.Read)
	}
	if p == nil {
		return httperr.NoContent
	}
	return h.renderKept(ctx, c, key, gen, view.ProductOf(p))
}

// productBody reads a Product body; an invalid body is refused before the
// caller's rights are looked at, as Jersey validates before Spring Security.
func (h *Handlers) productBody(c *app.RequestContext) (*warehouse.Product, error) {
	var body productBody
	if err := h.body(c, &body); err != nil {
		return nil, err
	}
	return body.product()
}

// updateProduct is W3, ADMIN.
func (h *Handlers) updateProduct(ctx context.Context, c *app.RequestContext) error {
	p, err := h.productBody(c)
	if err != nil {
		return err
	}
	caller, err := h.authn.RequireAdmin(ctx, c)
	if err != nil {
		return err
	}
	// Whatever the answer (a timeout may hide a success), kept answers go.
	defer h.catalogue.invalidate()
	if _, err := h.clients.Warehouse.UpdateProduct(caller.Context(ctx), &warehouse.ProductRequest{Product: p}, h.clients.Opts(clients.Warehouse)...); err != nil {
		return warehouseErr(err, httperr.Write)
	}
	return ok(ctx, c)
}

// createProduct is W4, ADMIN; answers with the saved product.
func (h *Handlers) createProduct(ctx context.Context, c *app.RequestContext) error {
	p, err := h.productBody(c)
	if err != nil {
		return err
	}
	caller, err := h.authn.RequireAdmin(ctx, c)
	if err != nil {
		return err
	}
	defer h.catalogue.invalidate()
	saved, err := h.clients.Warehouse.CreateProduct(caller.Context(ctx), &warehouse.ProductRequest{Product: p}, h.clients.Opts(clients.Warehouse)...)
	if err != nil {
		return warehouseErr(err, httperr.Write)
	}
	if saved == nil {
		return httperr.Internal(errors.New("warehouse: CreateProduct returned nothing"))
	}
	return render(ctx, c, view.ProductOf(saved))
}

// deleteProduct is W5, ADMIN.
func (h *Handlers) deleteProduct(ctx context.Context, c *app.RequestContext) error {
	id, err := decode.ID(c.Param("id"), "商品ID")
	if err != nil {
		return err
	}
	caller, err := h.authn.RequireAdmin(ctx, c)
	if err != nil {
		return err
	}
	defer h.catalogue.invalidate()
	if _, err := h.clients.Warehouse.DeleteProduct(caller.Context(ctx), &warehouse.ProductIdRequest{Id: id}, h.clients.Opts(clients.Warehouse)...); err != nil {
		return warehouseErr(err, httperr.Write)
	}
	return ok(ctx, c)
}

// getStockpile is W7, ADMIN; 204 if the product has no stock record.
func (h *Handlers) getStockpile(ctx context.Context, c *app.RequestContext) error {
	id, err := decode.ID(c.Param("id"), "商品ID")
	if err != nil {
		return err
	}
	caller, err := h.authn.RequireAdmin(ctx, c)
	if err != nil {
		return err
	}
	s, err := h.clients.Warehouse.GetStockpile(caller.Context(ctx), &warehouse.StockpileRequest{ProductId: id}, h.clients.Opts(clients.Warehouse)...)
	if err != nil {
		return warehouseErr(err, httperr.Read)
	}
	if s == nil {
		return httperr.NoContent
	}
	return render(ctx, c, view.StockpileOf(s))
}

// setStockpile is W6, ADMIN: sets the amount; any body is ignored (the
// original's tests send one, the frontend none).
func (h *Handlers) setStockpile(ctx context.Context, c *app.RequestContext) error {
	id, err := decode.ID(c.Param("id"), "商品ID")
	if err != nil {
		return err
	}
	amount, err := decode.Int32(c, "amount")
	if err != nil {
		return err
	}
	caller, err := h.authn.RequireAdmin(ctx, c)
	if err != nil {
		return err
	}
	if _, err := h.clients.Warehouse.SetStockpile(caller.Context(ctx), &warehouse.SetStockpileRequest{ProductId: id, Amount: amount}, h.clients.Opts(clients.Warehouse)...); err != nil {
		return warehouseErr(err, httperr.Write)
	}
	return ok(ctx, c)
}

// listAdvertisements is W9, anonymous.
func (h *Handlers) listAdvertisements(ctx context.Context, c *app.RequestContext) error {
	if h.catalogue.serve(c, keyAds) {
		return nil
	}
	gen := h.catalogue.generation()
	resp, err := h.clients.Warehouse.ListAdvertisements(callerOf(c).Context(ctx), &warehouse.ListAdvertisementsRequest{}, h.clients.Opts(clients.Warehouse)...)
	if err != nil {
		return warehouseErr(err, httperr.Read)
	}
	return h.renderKept(ctx, c, keyAds, gen, view.AdvertisementsOf(resp.GetAdvertisements()))
}
