package rest

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloudwego/hertz/pkg/app"

	"example.com/bookstore/gateway/internal/clients"
	"example.com/bookstore/gateway/internal/decode"
	"example.com/bookstore/gateway/internal/httperr"
	"example.com/bookstore/gateway/internal/view"
	"example.com/bookstore/idl/kitex_gen/payment"
)

// The states a client may ask a payment to move to. The original treats
// every value other than PAYED as a cancel (even a missing one, or the
// test-only NOT_SUPPORT); here only the two the frontend sends are
// accepted and anything else is a 400, so a typo cannot cancel an order.
const (
	statePayed  = "PAYED"
	stateCancel = "CANCEL"
)

func paymentErr(err error, op httperr.Op) error {
	return httperr.FromRPC(err, clients.Payment, op)
}

// settle is P1, USER: freezes the stock and answers with the new payment.
func (h *Handlers) settle(ctx context.Context, c *app.RequestContext) error {
	var body settlementBody
	if err := h.body(c, &body); err != nil {
		return err
	}
	if err := body.validate(); err != nil {
		return err
	}
	caller, err := h.authn.RequireUser(ctx, c)
	if err != nil {
		return err
	}
	p, err := h.clients.Payment.Settle(caller.Context(ctx), body.request(), h.clients.Opts(clients.Payment)...)
	if err != nil {
		return paymentErr(err, httperr.Write)
	}
	if p == nil {
		return httperr.Internal(errors.New("payment: Settle returned nothing"))
	}
	return render(ctx, c, view.PaymentOf(p))
}

func payID(c *app.RequestContext) (string, error) {
	id := c.Param("payId")
	if id == "" || len(id) > 64 {
		return "", httperr.BadRequest(fmt.Sprintf("支付单号不合法：%q", id))
	}
	return id, nil
}

// pay is P2, USER: pays from the caller's wallet, or cancels.
func (h *Handlers) pay(ctx context.Context, c *app.RequestContext) error {
	id, err := payID(c)
	if err != nil {
		return err
	}
	state, err := decode.Enum(c, "state", statePayed, stateCancel)
	if err != nil {
		return err
	}
	caller, err := h.authn.RequireUser(ctx, c)
	if err != nil {
		return err
	}
	return h.changeState(caller.Context(ctx), c, id, state, caller.Principal.AccountID)
}

// payByLink is P3, anonymous: the "QR code" link of a payment pays from the
// wallet of the account the link names.
func (h *Handlers) payByLink(ctx context.Context, c *app.RequestContext) error {
	id, err := payID(c)
	if err != nil {
		return err
	}
	state, err := decode.Enum(c, "state", statePayed, stateCancel)
	if err != nil {
		return err
	}
	var accountID int64
	if state == statePayed {
		if accountID, err = decode.Int64(c, "accountId"); err != nil {
			return err
		}
	}
	// The link is anonymous by contract, and the browser sends its token on
	// every request: forwarding it would make payment refuse a logged-in
	// user paying for the account the link names.
	return h.changeState(ctx, c, id, state, accountID)
}

func (h *Handlers) changeState(ctx context.Context, c *app.RequestContext, id, state string, accountID int64) error {
	var err error
	if state == statePayed {
		_, err = h.clients.Payment.Pay(ctx, &payment.PayRequest{PayId: id, AccountId: accountID}, h.clients.Opts(clients.Payment)...)
	} else {
		_, err = h.clients.Payment.Cancel(ctx, &payment.PayIdRequest{PayId: id}, h.clients.Opts(clients.Payment)...)
	}
	if err != nil {
		return paymentErr(err, httperr.Write)
	}
	return ok(ctx, c)
}
