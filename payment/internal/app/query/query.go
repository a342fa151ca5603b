// Package query holds the payment service's read-only use cases.
package query

import (
	"context"

	"example.com/bookstore/payment/internal/domain"
)

// PaymentReader is the part of the repository queries need.
type PaymentReader interface {
	GetPayment(ctx context.Context, payID string) (*domain.Payment, error)
	GetWallet(ctx context.Context, accountID int64) (*domain.Wallet, error)
}

// PaymentHandler returns one payment by pay id.
type PaymentHandler struct{ repo PaymentReader }

func NewPaymentHandler(repo PaymentReader) PaymentHandler { return PaymentHandler{repo: repo} }

func (h PaymentHandler) Handle(ctx context.Context, payID string) (*domain.Payment, error) {
	return h.repo.GetPayment(ctx, payID)
}

// WalletHandler returns an account's wallet (empty if it has none).
type WalletHandler struct{ repo PaymentReader }

func NewWalletHandler(repo PaymentReader) WalletHandler { return WalletHandler{repo: repo} }

func (h WalletHandler) Handle(ctx context.Context, accountID int64) (*domain.Wallet, error) {
	return h.repo.GetWallet(ctx, accountID)
}
