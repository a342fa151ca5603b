// Command account serves accounts and credential checks over Kitex.
package main

import (
	"context"
	"log/slog"
	"os"

	"example.com/bookstore/account/internal/config"
	"example.com/bookstore/account/internal/service"
	commonconfig "example.com/bookstore/common/config"
	"example.com/bookstore/common/logging"
	"example.com/bookstore/common/telemetry"
)

func main() {
	if err := run(); err != nil {
		slog.Error("account: exiting", "err", err)
		os.Exit(1)
	}
}

func run() error {
	store, err := config.NewStore(commonconfig.Path())
	if err != nil {
		return err
	}
	cfg := store.Current()
	level := logging.Setup("account", cfg.Log)
	tel, err := telemetry.Setup("account", cfg.Telemetry)
	if err != nil {
		return err
	}
	defer flushTelemetry(tel)
	store.OnChange(func(_, next *config.Config) { logging.SetLevel(level, next.Log.Level) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := store.Watch(ctx); err != nil {
		return err
	}
	running, err := service.Start(ctx, cfg)
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
