// Package ports is the payment service's Kitex handler: IDL types in and
// out, the caller's identity checked, domain errors turned into rpcerr codes.
package ports

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"google.golang.org/protobuf/types/known/timestamppb"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/idl/kitex_gen/payment"
	"example.com/bookstore/payment/internal/app"
	"example.com/bookstore/payment/internal/app/command"
	"example.com/bookstore/payment/internal/domain"
)

// Handler implements payment.PaymentService.
type Handler struct {
	app app.Application
}

var _ payment.PaymentService = (*Handler)(nil)

// NewHandler returns the handler over the application.
func NewHandler(a app.Application) *Handler { return &Handler{app: a} }

// Settle validates the order first (bad input is 400 even for anonymous
// callers, as in the contract), then requires a logged-in user: the buyer.
func (h *Handler) Settle(ctx context.Context, req *payment.SettleRequest) (resp *payment.Payment, err error) {
	defer recoverTo(ctx, "Settle", &err)
	items := make([]domain.Item, 0, len(req.GetItems()))
	for _, it := range req.GetItems() {
		if it == nil {
			items = append(items, domain.Item{})
			continue
		}
		items = append(items, domain.Item{ProductID: it.GetProductId(), Amount: it.GetAmount()})
	}
	var purchase *domain.Purchase
	if pu := req.GetPurchase(); pu != nil {
		purchase = &domain.Purchase{Delivery: pu.GetDelivery(), Pay: pu.GetPay(), Name: pu.GetName(), Telephone: pu.GetTelephone(), Location: pu.GetLocation()}
	}
	s, err := domain.NewSettlement(items, purchase)
	if err != nil {
		return nil, toRPCError(ctx, "Settle", err)
	}
	caller, ok := auth.FromContext(ctx)
	if !ok || !caller.IsUser() {
		return nil, toRPCError(ctx, "Settle", domain.ErrPermissionDenied)
	}
	p, err := h.app.Commands.Settle.Handle(ctx, command.Settle{Settlement: s, AccountID: caller.AccountID})
	if err != nil {
		return nil, toRPCError(ctx, "Settle", err)
	}
	return toProto(p), nil
}

// Pay charges the wallet of req.AccountId. A user may only pay with their
// own wallet; an anonymous caller (the contract's QR-code payment link,
// kept on purpose: §14.6) and a service may name any account.
func (h *Handler) Pay(ctx context.Context, req *payment.PayRequest) (resp *payment.Empty, err error) {
	defer recoverTo(ctx, "Pay", &err)
	if caller, ok := auth.FromContext(ctx); ok && caller.IsUser() && caller.AccountID != req.GetAccountId() {
		return nil, toRPCError(ctx, "Pay", domain.ErrPermissionDenied)
	}
	if err := h.app.Commands.Pay.Handle(ctx, command.Pay{PayID: req.GetPayId(), AccountID: req.GetAccountId()}); err != nil {
		return nil, toRPCError(ctx, "Pay", err)
	}
	return &payment.Empty{}, nil
}

// Cancel gives up a payment. Like the contract, it has no ownership check:
// the anonymous payment link cancels too (any state but PAYED).
func (h *Handler) Cancel(ctx context.Context, req *payment.PayIdRequest) (resp *payment.Empty, err error) {
	defer recoverTo(ctx, "Cancel", &err)
	if err := h.app.Commands.Cancel.Handle(ctx, command.Cancel{PayID: req.GetPayId()}); err != nil {
		return nil, toRPCError(ctx, "Cancel", err)
	}
	return &payment.Empty{}, nil
}

// GetPayment returns a payment by pay id; NOT_FOUND if there is none.
func (h *Handler) GetPayment(ctx context.Context, req *payment.PayIdRequest) (resp *payment.Payment, err error) {
	defer recoverTo(ctx, "GetPayment", &err)
	p, err := h.app.Queries.Payment.Handle(ctx, req.GetPayId())
	if err != nil {
		return nil, toRPCError(ctx, "GetPayment", err)
	}
	return toProto(p), nil
}

// GetWallet returns an account's balance (0 without a wallet). Balances are
// private: a user reads their own (the administrator any), a service any,
// an anonymous caller none.
func (h *Handler) GetWallet(ctx context.Context, req *payment.WalletRequest) (resp *payment.Wallet, err error) {
	defer recoverTo(ctx, "GetWallet", &err)
	if !mayReadWallet(ctx, req.GetAccountId()) {
		return nil, toRPCError(ctx, "GetWallet", domain.ErrPermissionDenied)
	}
	w, err := h.app.Queries.Wallet.Handle(ctx, req.GetAccountId())
	if err != nil {
		return nil, toRPCError(ctx, "GetWallet", err)
	}
	return &payment.Wallet{AccountId: w.AccountID(), Money: w.Money().Yuan()}, nil
}

func mayReadWallet(ctx context.Context, accountID int64) bool {
	caller, ok := auth.FromContext(ctx)
	switch {
	case !ok:
		return false
	case caller.IsUser():
		return caller.IsAdmin() || caller.AccountID == accountID
	default:
		return caller.HasScope(auth.ScopeService)
	}
}

var payStates = map[domain.State]payment.PayState{
	domain.StateWaiting: payment.PayState_WAITING,
	domain.StateCancel:  payment.PayState_CANCEL,
	domain.StatePayed:   payment.PayState_PAYED,
	domain.StateTimeout: payment.PayState_TIMEOUT,
}

func toProto(p *domain.Payment) *payment.Payment {
	return &payment.Payment{
		Id:          p.ID(),
		CreateTime:  timestamppb.New(p.CreateTime()),
		PayId:       p.PayID(),
		TotalPrice:  p.Total().Yuan(),
		Expires:     p.Expires().Milliseconds(),
		PaymentLink: p.Link(),
		PayState:    payStates[p.State()],
	}
}

// Messages of errors that are not the caller's fault.
const (
	msgWarehouseUnavailable = "仓库服务暂不可用，请稍后重试"
	msgInternal             = "支付服务暂时无法完成请求，请稍后重试"
)

// toRPCError maps a domain error to the code the gateway turns into the
// contract's status. Anything unexpected is logged here, where its detail
// is, and leaves as UNAVAILABLE with a generic message: no internals reach
// the caller.
func toRPCError(ctx context.Context, method string, err error) error {
	var ve *domain.ValidationError
	var se *domain.StateError
	switch {
	case errors.As(err, &ve):
		return rpcerr.New(rpcerr.InvalidArgument, ve.Error())
	case errors.As(err, &se):
		return rpcerr.New(rpcerr.FailedPrecondition, se.Error())
	case errors.Is(err, domain.ErrInsufficientBalance):
		return rpcerr.New(rpcerr.FailedPrecondition, domain.ErrInsufficientBalance.Error())
	case errors.Is(err, domain.ErrPaymentNotFound):
		return rpcerr.New(rpcerr.NotFound, domain.ErrPaymentNotFound.Error())
	case errors.Is(err, domain.ErrPermissionDenied):
		return rpcerr.New(rpcerr.PermissionDenied, domain.ErrPermissionDenied.Error())
	case errors.Is(err, domain.ErrUnknownProduct):
		return rpcerr.New(rpcerr.InvalidArgument, domain.ErrUnknownProduct.Error())
	case errors.Is(err, domain.ErrInsufficientStock):
		return rpcerr.New(rpcerr.InsufficientStock, domain.ErrInsufficientStock.Error())
	case errors.Is(err, domain.ErrWarehouseUnavailable):
		slog.WarnContext(ctx, "payment: warehouse unavailable", "method", method, "err", err)
		return rpcerr.New(rpcerr.Unavailable, msgWarehouseUnavailable)
	}
	slog.ErrorContext(ctx, "payment: internal error", "method", method, "err", err)
	return rpcerr.New(rpcerr.Unavailable, msgInternal)
}

// recoverTo turns a panic in a handler into an ordinary error for the
// caller, with the stack in the log only.
func recoverTo(ctx context.Context, method string, err *error) {
	if r := recover(); r != nil {
		*err = toRPCError(ctx, method, fmt.Errorf("panic: %v\n%s", r, debug.Stack()))
	}
}
