// Package service assembles the warehouse (database, adapters, use cases,
// Kitex handler, server) so that main and the component tests start the
// very same thing.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	kserver "github.com/cloudwego/kitex/server"
	"gorm.io/gorm"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/db"
	"example.com/bookstore/common/server"
	"example.com/bookstore/common/telemetry"
	"example.com/bookstore/idl/kitex_gen/warehouse/warehouseservice"
	"example.com/bookstore/warehouse/internal/adapters"
	"example.com/bookstore/warehouse/internal/app"
	"example.com/bookstore/warehouse/internal/config"
	"example.com/bookstore/warehouse/internal/ports"
)

// Running is a started warehouse.
type Running struct {
	svc *server.Service
	db  *gorm.DB
}

// Start opens and migrates the database, loads the seed into an empty one
// and serves on cfg.Server.Addr until Shutdown or Wait returns.
func Start(ctx context.Context, cfg *config.Config) (*Running, error) {
	return StartLive(ctx, func() *config.Config { return cfg })
}

// StartLive is Start with a live config: current is read where a hot key
// is used (the test-only [debug] delay, on every call).
func StartLive(ctx context.Context, current func() *config.Config) (*Running, error) {
	cfg := current()
	gdb, err := db.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Running, error) {
		return nil, errors.Join(err, db.Close(gdb))
	}
	if err := telemetry.InstrumentDB(gdb, "warehouse"); err != nil {
		return fail(err)
	}
	if err := adapters.Migrate(ctx, gdb); err != nil {
		return fail(err)
	}
	loaded, err := adapters.Seed(ctx, gdb)
	if err != nil {
		return fail(err)
	}
	if loaded {
		slog.Info("seed data loaded into an empty database")
	}

	application := app.New(app.Repositories{
		Products:       adapters.NewProducts(gdb),
		Stockpiles:     adapters.NewStockpiles(gdb),
		Advertisements: adapters.NewAdvertisements(gdb),
		Reservations:   adapters.NewReservations(gdb),
	})
	handler := ports.NewHandler(application)

	svc, err := server.Start(cfg.Server, auth.NewKeys(cfg.Auth.JWTKey),
		func(ctx context.Context) error { return db.Ping(ctx, gdb) },
		func(opts []kserver.Option) kserver.Server { return warehouseservice.NewServer(handler, opts...) },
		kserver.WithMiddleware(debugDelay(current)),
		kserver.WithMiddleware(countFreezeFailures),
	)
	if err != nil {
		return fail(fmt.Errorf("warehouse: %w", err))
	}
	slog.Info("warehouse listening", "addr", svc.Addr().String(), "admin", svc.AdminAddr().String(), "db", cfg.DB.Driver)
	return &Running{svc: svc, db: gdb}, nil
}

// Addr is where the Kitex server listens.
func (r *Running) Addr() net.Addr { return r.svc.Addr() }

// AdminAddr is where /healthz and /readyz answer.
func (r *Running) AdminAddr() net.Addr { return r.svc.AdminAddr() }

// Wait serves until SIGTERM/SIGINT or ctx is done, then shuts down
// gracefully and closes the database.
func (r *Running) Wait(ctx context.Context) error {
	return errors.Join(r.svc.Wait(ctx), db.Close(r.db))
}

// Shutdown stops serving (in-flight calls finish) and closes the database.
func (r *Running) Shutdown(ctx context.Context) error {
	return errors.Join(r.svc.Shutdown(ctx), db.Close(r.db))
}
