// Command warehouse serves the store's catalogue, stock and advertisements
// over Kitex (idl/warehouse.proto).
package main

import (
	"context"
	"log/slog"
	"os"

	"example.com/bookstore/common/config"
	"example.com/bookstore/common/logging"
	"example.com/bookstore/common/telemetry"
	wconfig "example.com/bookstore/warehouse/internal/config"
	"example.com/bookstore/warehouse/internal/service"
)

func main() {
	if err := run(); err != nil {
		slog.Error("warehouse stopped", "err", err)
		os.Exit(1)
	}
}

func run() error {
	store, err := config.NewStore[wconfig.Config](config.Path())
	if err != nil {
		return err
	}
	cfg := store.Current()
	level := logging.Setup("warehouse", cfg.Log)
	tel, err := telemetry.Setup("warehouse", cfg.Telemetry)
	if err != nil {
		return err
	}
	defer flushTelemetry(tel)
	store.OnChange(func(_, next *wconfig.Config) { logging.SetLevel(level, next.Log.Level) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := store.Watch(ctx); err != nil {
		return err
	}
	running, err := service.StartLive(ctx, store.Current)
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
