// Package clients builds the gateway's Kitex clients of the domain services.
package clients

import (
	"fmt"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/client/callopt"

	"example.com/bookstore/common/rpcclient"
	"example.com/bookstore/gateway/internal/bulkhead"
	"example.com/bookstore/gateway/internal/config"
	"example.com/bookstore/idl/kitex_gen/account/accountservice"
	"example.com/bookstore/idl/kitex_gen/payment/paymentservice"
	"example.com/bookstore/idl/kitex_gen/warehouse/warehouseservice"
)

// Service names, as Kitex destinations and in "<service> 服务暂不可用".
const (
	Account   = "account"
	Warehouse = "warehouse"
	Payment   = "payment"
)

// Set is one client per domain service.
type Set struct {
	Account   accountservice.Client
	Warehouse warehouseservice.Client
	Payment   paymentservice.Client

	current func() config.Clients
}

// Guards are the protections shared by the clients (both may be nil).
type Guards struct {
	Breakers  *rpcclient.Breakers
	Bulkheads *bulkhead.Bulkheads
}

// The calls that may be retried after a connection failure: the reads.
// Nothing the gateway writes carries an idempotency key, so its writes are
// sent once.
var (
	accountReads   = rpcclient.Idempotent("GetAccount", "VerifyCredentials")
	warehouseReads = rpcclient.Idempotent("ListProducts", "GetProduct", "GetStockpile", "ListAdvertisements")
	paymentReads   = rpcclient.Idempotent("GetPayment", "GetWallet")
)

// New builds the clients from cfg. current, when not nil, is read on every
// call so that changed timeouts apply without a restart (the addresses do
// need one). extra is added to every client's rpcclient options.
func New(cfg config.Clients, current func() config.Clients, g Guards, extra ...rpcclient.Option) (*Set, error) {
	opts := func(service string, c rpcclient.Config, reads rpcclient.Option) []client.Option {
		o := rpcclient.Options(c, append([]rpcclient.Option{reads, rpcclient.WithBreakers(g.Breakers)}, extra...)...)
		if g.Bulkheads != nil {
			o = append(o, client.WithMiddleware(g.Bulkheads.Middleware(service)))
		}
		return o
	}
	acc, err := accountservice.NewClient(Account, opts(Account, cfg.Account, accountReads)...)
	if err != nil {
		return nil, fmt.Errorf("clients: account: %w", err)
	}
	wh, err := warehouseservice.NewClient(Warehouse, opts(Warehouse, cfg.Warehouse, warehouseReads)...)
	if err != nil {
		return nil, fmt.Errorf("clients: warehouse: %w", err)
	}
	pay, err := paymentservice.NewClient(Payment, opts(Payment, cfg.Payment, paymentReads)...)
	if err != nil {
		return nil, fmt.Errorf("clients: payment: %w", err)
	}
	return &Set{Account: acc, Warehouse: wh, Payment: pay, current: current}, nil
}

// Opts returns the per-call options for a call to service: the current
// timeouts, which take precedence over those the client was built with.
func (s *Set) Opts(service string) []callopt.Option {
	if s.current == nil {
		return nil
	}
	all := s.current()
	switch service {
	case Account:
		return rpcclient.CallOptions(all.Account)
	case Warehouse:
		return rpcclient.CallOptions(all.Warehouse)
	case Payment:
		return rpcclient.CallOptions(all.Payment)
	}
	return nil
}
