// Command payment is the bookstore's payment service: settlements, payments
// and wallets, over Kitex Protobuf. See internal/service for the wiring.
package main

import (
	"context"
	"log/slog"
	"os"

	"example.com/bookstore/common/config"
	"example.com/bookstore/common/logging"
	"example.com/bookstore/common/telemetry"
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
	tel, err := telemetry.Setup("payment", store.Current().Telemetry)
	if err != nil {
		return err
	}
	defer flushTelemetry(tel)
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

// flushTelemetry sends the spans still buffered before the process exits.
func flushTelemetry(tel *telemetry.Provider) {
	if err := tel.Shutdown(context.Background()); err != nil {
		slog.Warn("telemetry: spans lost at exit", "err", err)
	}
}
