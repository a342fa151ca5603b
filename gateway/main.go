// Command gateway serves the bookstore's public HTTP surface: the REST
// contract under /restful and the OAuth2 token endpoint, in front of the
// account, warehouse and payment services.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/kitex/pkg/klog"

	"example.com/bookstore/common/config"
	"example.com/bookstore/common/logging"
	"example.com/bookstore/common/telemetry"
	"example.com/bookstore/common/telemetry/hertztel"
	gwconfig "example.com/bookstore/gateway/internal/config"
	"example.com/bookstore/gateway/internal/service"
)

func main() {
	if err := run(); err != nil {
		slog.Error("gateway failed", "err", err)
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func run() error {
	store, err := config.NewStore[gwconfig.Config](config.Path())
	if err != nil {
		return err
	}
	cfg := store.Current()
	level := logging.Setup("gateway", cfg.Log)
	tel, err := telemetry.Setup("gateway", cfg.Telemetry)
	if err != nil {
		return err
	}
	defer flushTelemetry(tel)
	hlog.SetLogger(hertztel.Logger())
	frameworkLogs(cfg.Log.Level)
	store.OnChange(func(_, next *gwconfig.Config) {
		logging.SetLevel(level, next.Log.Level)
		frameworkLogs(next.Log.Level)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := store.Watch(ctx); err != nil {
		return err
	}
	running, err := service.Start(*cfg, store.Current)
	if err != nil {
		return err
	}
	return running.Wait(ctx)
}

// frameworkLogs quiets Hertz's and Kitex's own plain-text loggers to
// warnings unless the gateway logs at debug level.
func frameworkLogs(level string) {
	if level == "debug" {
		hlog.SetLevel(hlog.LevelDebug)
		klog.SetLevel(klog.LevelDebug)
		return
	}
	hlog.SetLevel(hlog.LevelWarn)
	klog.SetLevel(klog.LevelWarn)
}

// flushTelemetry sends the spans still buffered before the process exits.
func flushTelemetry(tel *telemetry.Provider) {
	if err := tel.Shutdown(context.Background()); err != nil {
		slog.Warn("telemetry: spans lost at exit", "err", err)
	}
}
