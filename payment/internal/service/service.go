// Package service wires the payment service together: config, database,
// adapters, application, ports and the Kitex server. main calls it, and so
// do the component tests, which get a real server on a free port.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	kserver "github.com/cloudwego/kitex/server"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/db"
	"example.com/bookstore/common/rpcclient"
	"example.com/bookstore/common/server"
	"example.com/bookstore/common/telemetry"
	"example.com/bookstore/idl/kitex_gen/payment/paymentservice"
	"example.com/bookstore/idl/kitex_gen/warehouse/warehouseservice"
	"example.com/bookstore/payment/internal/adapters"
	"example.com/bookstore/payment/internal/app"
	"example.com/bookstore/payment/internal/app/command"
	"example.com/bookstore/payment/internal/app/query"
	"example.com/bookstore/payment/internal/config"
	"example.com/bookstore/payment/internal/ports"
)

// ServiceTokenTTL is the lifetime of the SERVICE token payment presents to
// the warehouse (renewed at half-life).
const ServiceTokenTTL = 10 * time.Minute

// Running is a started payment service.
type Running struct {
	srv        *server.Service
	db         *gorm.DB
	stopWorker context.CancelFunc
	workerDone chan struct{}
	closeOnce  sync.Once
}

// Start opens the database (migrating and seeding it), starts the Kitex
// server and the background worker. current is read at every use of a hot
// key, so passing a config store's Current makes live changes apply.
func Start(ctx context.Context, current func() *config.Config) (*Running, error) {
	cfg := current()
	gdb, err := db.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	r := &Running{db: gdb}
	ok := false
	defer func() {
		if !ok {
			_ = db.Close(gdb)
		}
	}()

	if err := telemetry.InstrumentDB(gdb, "payment"); err != nil {
		return nil, err
	}
	repo := counting(adapters.NewRepository(gdb, time.Now))
	if err := repo.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("payment: migrate: %w", err)
	}
	if err := repo.Seed(ctx); err != nil {
		return nil, fmt.Errorf("payment: %w", err)
	}

	keys := auth.NewKeys(cfg.Auth.JWTKey)
	wcli, err := warehouseservice.NewClient("warehouse", adapters.WarehouseClientOptions(cfg.Clients.Warehouse)...)
	if err != nil {
		return nil, fmt.Errorf("payment: warehouse client: %w", err)
	}
	stock := adapters.NewWarehouse(wcli, auth.NewServiceTokens(keys, "payment", ServiceTokenTTL),
		func() rpcclient.Config { return current().Clients.Warehouse })

	worker := app.NewWorker(func() app.WorkerSettings {
		p := current().Payment
		return app.WorkerSettings{SweepInterval: p.SweepInterval, RetryInterval: p.OutboxRetryInterval}
	})
	worker.Bind(
		command.NewExpireDueHandler(repo, worker, time.Now),
		command.NewDeliverHandler(repo, stock, replicaName(), time.Now, func() command.DeliverSettings {
			p := current().Payment
			return command.DeliverSettings{RetryInterval: p.OutboxRetryInterval, MaxBackoff: p.OutboxMaxBackoff, Lease: p.OutboxLease}
		}),
		command.NewPurgeOutboxHandler(repo, time.Now, func() time.Duration { return current().Payment.OutboxRetention }),
	)
	application := app.Application{
		Commands: app.Commands{
			Settle: command.NewSettleHandler(repo, stock, worker, time.Now, uuid.NewString,
				func() time.Duration { return current().Payment.Expires }),
			Pay:    command.NewPayHandler(repo, worker, time.Now),
			Cancel: command.NewCancelHandler(repo, worker, time.Now),
		},
		Queries: app.Queries{
			Payment: query.NewPaymentHandler(repo),
			Wallet:  query.NewWalletHandler(repo),
		},
	}

	r.srv, err = server.Start(cfg.Server, keys, repo.Ping, func(opts []kserver.Option) kserver.Server {
		return paymentservice.NewServer(ports.NewHandler(application), opts...)
	})
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.stopWorker, r.workerDone = cancel, make(chan struct{})
	go func() {
		defer close(r.workerDone)
		worker.Run(wctx)
	}()
	ok = true
	slog.Info("payment service started", "addr", r.srv.Addr().String(), "admin_addr", r.srv.AdminAddr().String(), "db", cfg.DB.Driver)
	return r, nil
}

// replicaName identifies this process in outbox leases (for operators
// reading the table; correctness only needs it to be unique).
func replicaName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), uuid.NewString()[:8])
}

// Addr is the Kitex listen address.
func (r *Running) Addr() net.Addr { return r.srv.Addr() }

// AdminAddr is the /healthz and /readyz address.
func (r *Running) AdminAddr() net.Addr { return r.srv.AdminAddr() }

// Wait serves until SIGTERM/SIGINT or ctx ends, then shuts down gracefully.
func (r *Running) Wait(ctx context.Context) error {
	err := r.srv.Wait(ctx)
	return errors.Join(err, r.close())
}

// Shutdown stops the server (in-flight calls finish), then the worker, then
// closes the database.
func (r *Running) Shutdown(ctx context.Context) error {
	err := r.srv.Shutdown(ctx)
	return errors.Join(err, r.close())
}

func (r *Running) close() error {
	var err error
	r.closeOnce.Do(func() {
		r.stopWorker()
		<-r.workerDone
		err = db.Close(r.db)
	})
	return err
}
