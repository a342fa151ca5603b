// Package rest serves the contract's REST resources under /restful (§4),
// translating each request into calls of the domain services.
package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/route"

	"example.com/bookstore/gateway/internal/authn"
	"example.com/bookstore/gateway/internal/clients"
	"example.com/bookstore/gateway/internal/decode"
	"example.com/bookstore/gateway/internal/httperr"
)

// Handlers serves the REST resources.
type Handlers struct {
	clients   *clients.Set
	authn     *authn.Authenticator
	maxBody   int
	catalogue *catalogue
}

// New returns the REST handlers. maxBody bounds request bodies.
func New(c *clients.Set, a *authn.Authenticator, maxBody int) *Handlers {
	return &Handlers{clients: c, authn: a, maxBody: maxBody}
}

// KeepCatalogue makes the catalogue reads answer from answers kept for up
// to ttl (see catalogue); 0 sends every read to the warehouse.
func (h *Handlers) KeepCatalogue(ttl time.Duration) *Handlers {
	h.catalogue = newCatalogue(ttl)
	return h
}

// handler is a route's logic; a returned error is written as the contract's
// error answer.
type handler func(ctx context.Context, c *app.RequestContext) error

func wrap(h handler) app.HandlerFunc {
	return func(ctx context.Context, c *app.RequestContext) {
		if err := h(ctx, c); err != nil {
			httperr.Respond(ctx, c, err)
		}
	}
}

// Register mounts the resources on r (the /restful group). Every route sits
// behind the bearer token check. W8 (stock reservations) is not exposed: the
// payment service calls the warehouse over Kitex.
func (h *Handlers) Register(r *route.RouterGroup) {
	r.Use(h.authn.Middleware(httperr.Respond))

	r.GET("/accounts/:username", wrap(h.getAccount))
	r.POST("/accounts", wrap(h.createAccount))
	r.PUT("/accounts", wrap(h.updateAccount))

	r.GET("/products", wrap(h.listProducts))
	r.GET("/products/:id", wrap(h.getProduct))
	r.PUT("/products", wrap(h.updateProduct))
	r.POST("/products", wrap(h.createProduct))
	r.DELETE("/products/:id", wrap(h.deleteProduct))
	r.GET("/products/stockpile/:id", wrap(h.getStockpile))
	r.PATCH("/products/stockpile/:id", wrap(h.setStockpile))

	r.GET("/advertisements", wrap(h.listAdvertisements))

	r.POST("/settlements", wrap(h.settle))
	r.PATCH("/pay/:payId", wrap(h.pay))
	r.GET("/pay/modify/:payId", wrap(h.payByLink))
}

// body reads and decodes the request's JSON body into v.
func (h *Handlers) body(c *app.RequestContext, v any) error {
	b, err := decode.Body(c, h.maxBody)
	if err != nil {
		return err
	}
	return decode.JSON(b, v)
}

func callerOf(c *app.RequestContext) *authn.Caller { return authn.CallerOf(c) }

func ok(ctx context.Context, c *app.RequestContext) error {
	httperr.JSON(ctx, c, http.StatusOK, httperr.OK)
	return nil
}

func render(ctx context.Context, c *app.RequestContext, v any) error {
	httperr.JSON(ctx, c, http.StatusOK, v)
	return nil
}
