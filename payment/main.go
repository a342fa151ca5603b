// Command payment is the bookstore's payment service: settlements, payments
// and wallets, over Kitex Protobuf. See internal/service for the wiring.
package main

import (
	"context"
	"log/slog"
	"os"

	"example.com/bookstore/common/config"
	"example.com/bookstore/common/logging"
	pconfig "example.com/bookstore/payment/internal/config"
	"example.com/bookstore/payment/internal/service"
)

func main() {
	if err := run(); err != nil {
		slog.Error("payment: exiting", "err", err)
		os.Exit(1)
	}
}

func run() error {
	store, err := config.NewStore[pconfig.Config](config.Path())
	if err != nil {
		return err
	}
	level := logging.Setup("payment", store.Current().Log)
	store.OnChange(func(_, next *pconfig.Config) { logging.SetLevel(level, next.Log.Level) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := store.Watch(ctx); err != nil {
		return err
	}
	running, err := service.Start(ctx, store.Current)
	if err != nil {
		return err
	}
	return running.Wait(ctx)
}
