// Package clients builds the gateway's Kitex clients of the domain services.
package clients

import (
	"fmt"

	"github.com/cloudwego/kitex/client/callopt"

	"example.com/bookstore/common/rpcclient"
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

// New builds the clients from cfg. current, when not nil, is read on every
// call so that changed timeouts apply without a restart (the addresses do
// need one).
func New(cfg config.Clients, current func() config.Clients) (*Set, error) {
	acc, err := accountservice.NewClient(Account, rpcclient.Options(cfg.Account)...)
	if err != nil {
		return nil, fmt.Errorf("clients: account: %w", err)
	}
	wh, err := warehouseservice.NewClient(Warehouse, rpcclient.Options(cfg.Warehouse)...)
	if err != nil {
		return nil, fmt.Errorf("clients: warehouse: %w", err)
	}
	pay, err := paymentservice.NewClient(Payment, rpcclient.Options(cfg.Payment)...)
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
	var c rpcclient.Config
	switch service {
	case Account:
		c = all.Account
	case Warehouse:
		c = all.Warehouse
	case Payment:
		c = all.Payment
	}
	var opts []callopt.Option
	if c.RPCTimeout > 0 {
		opts = append(opts, callopt.WithRPCTimeout(c.RPCTimeout))
	}
	if c.ConnectTimeout > 0 {
		opts = append(opts, callopt.WithConnectTimeout(c.ConnectTimeout))
	}
	return opts
}
