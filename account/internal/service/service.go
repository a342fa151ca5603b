// Package service assembles the account service from its config: database,
// repository, use cases, Kitex handler and server. main runs it; the
// component tests start the very same thing in-process.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	kserver "github.com/cloudwego/kitex/server"
	"gorm.io/gorm"

	"example.com/bookstore/account/internal/adapters"
	"example.com/bookstore/account/internal/app"
	"example.com/bookstore/account/internal/config"
	"example.com/bookstore/account/internal/ports"
	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/db"
	"example.com/bookstore/common/server"
	"example.com/bookstore/common/telemetry"
	"example.com/bookstore/idl/kitex_gen/account/accountservice"
)

// Running is a started account service.
type Running struct {
	svc *server.Service
	db  *gorm.DB
}

// Start opens and prepares the database (schema, seed) and starts serving.
// extra options go to the Kitex server after the common ones (tests use
// them to add middleware).
func Start(ctx context.Context, cfg *config.Config, extra ...kserver.Option) (*Running, error) {
	gdb, err := db.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	r, err := start(ctx, cfg, gdb, extra)
	if err != nil {
		return nil, errors.Join(err, db.Close(gdb))
	}
	return r, nil
}

func start(ctx context.Context, cfg *config.Config, gdb *gorm.DB, extra []kserver.Option) (*Running, error) {
	if err := telemetry.InstrumentDB(gdb, "account"); err != nil {
		return nil, err
	}
	repo := adapters.NewAccounts(gdb)
	if err := repo.Migrate(ctx); err != nil {
		return nil, err
	}
	seeded, err := repo.Seed(ctx)
	if err != nil {
		return nil, err
	}
	if seeded {
		slog.Info("account: empty database seeded with the preset user")
	}
	handler := ports.NewHandler(app.New(repo))
	svc, err := server.Start(cfg.Server, auth.NewKeys(cfg.Auth.JWTKey),
		func(ctx context.Context) error { return db.Ping(ctx, gdb) },
		func(opts []kserver.Option) kserver.Server { return accountservice.NewServer(handler, opts...) },
		extra...)
	if err != nil {
		return nil, fmt.Errorf("account: %w", err)
	}
	slog.Info("account: serving", "addr", svc.Addr().String(), "admin", svc.AdminAddr().String(), "db", cfg.DB.Driver)
	return &Running{svc: svc, db: gdb}, nil
}

// Addr is where the Kitex server listens.
func (r *Running) Addr() net.Addr { return r.svc.Addr() }

// AdminAddr is where /healthz and /readyz are served.
func (r *Running) AdminAddr() net.Addr { return r.svc.AdminAddr() }

// Shutdown stops serving gracefully (in-flight calls finish), then closes
// the database.
func (r *Running) Shutdown(ctx context.Context) error {
	return r.closeDB(r.svc.Shutdown(ctx))
}

// Wait serves until SIGTERM/SIGINT or ctx is done, then shuts down as
// Shutdown does. It returns nil after a clean shutdown.
func (r *Running) Wait(ctx context.Context) error {
	return r.closeDB(r.svc.Wait(ctx))
}

func (r *Running) closeDB(err error) error {
	return errors.Join(err, db.Close(r.db))
}
