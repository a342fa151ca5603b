// Package service assembles and runs the gateway: the Hertz server with the
// REST resources and the token endpoint, and the admin listener with
// /healthz and /readyz. main loads config and calls Start; tests start the
// same thing on 127.0.0.1:0.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	hserver "github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/kitex/client/callopt"

	"example.com/bookstore/common/auth"
	cserver "example.com/bookstore/common/server"
	"example.com/bookstore/common/telemetry"
	"example.com/bookstore/common/telemetry/hertztel"
	"example.com/bookstore/gateway/internal/authn"
	"example.com/bookstore/gateway/internal/clients"
	"example.com/bookstore/gateway/internal/config"
	"example.com/bookstore/gateway/internal/httperr"
	"example.com/bookstore/gateway/internal/oauth"
	"example.com/bookstore/gateway/internal/resilience"
	"example.com/bookstore/gateway/internal/rest"
	"example.com/bookstore/gateway/internal/web"
)

// serviceTokenTTL is the lifetime of the gateway's own SERVICE token.
const serviceTokenTTL = 10 * time.Minute

// Running is a started gateway.
type Running struct {
	cfg      config.Config
	h        *hserver.Hertz
	ln       net.Listener
	admin    *http.Server
	adminLn  net.Listener
	draining atomic.Bool
	done     chan error
}

// Start listens on cfg.Server.Addr and AdminAddr and serves until Shutdown.
// current, when not nil, returns the live config; its hot keys (client
// timeouts) are read on every call.
func Start(cfg config.Config, current func() *config.Config) (*Running, error) {
	cfg = cfg.WithDefaults()
	if cfg.Server.ShutdownTimeout <= 0 {
		cfg.Server.ShutdownTimeout = 10 * time.Second
	}
	var liveClients func() config.Clients
	live := func() *config.Config { return &cfg }
	if current != nil {
		liveClients = func() config.Clients { return current().Clients }
		live = current
	}
	res := resilience.New(live)
	set, err := clients.New(cfg.Clients, liveClients, res.Guards())
	if err != nil {
		return nil, err
	}
	keys := auth.NewKeys(cfg.Auth.JWTKey)
	svcTokens := auth.NewServiceTokens(keys, "gateway", serviceTokenTTL)
	accountOpts := func() []callopt.Option { return set.Opts(clients.Account) }

	ln, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		return nil, fmt.Errorf("gateway: listen %s: %w", cfg.Server.Addr, err)
	}
	adminLn, err := net.Listen("tcp", cfg.Server.AdminAddr)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("gateway: admin listen %s: %w", cfg.Server.AdminAddr, err)
	}
	pln, err := cserver.NetpollListener(ln.(*net.TCPListener))
	if err != nil {
		ln.Close()
		adminLn.Close()
		return nil, fmt.Errorf("gateway: %w", err)
	}
	r := &Running{cfg: cfg, ln: ln, adminLn: adminLn, done: make(chan error, 1)}

	r.h = hserver.New(
		hserver.WithListener(pln),
		// Streamed bodies let oversized ones reach decode.Body, which
		// answers 400 in the contract's shape; the framework would send
		// a plain-text 413 before any handler ran.
		hserver.WithStreamBody(true),
		hserver.WithMaxRequestBodySize(cfg.HTTP.MaxBodyBytes),
		hserver.WithExitWaitTime(cfg.Server.ShutdownTimeout),
		hserver.WithHandleMethodNotAllowed(true),
		hserver.WithDisablePrintRoute(true),
		hserver.WithReadTimeout(time.Minute),
		// Shutdown waits for idle keep-alive connections up to the exit
		// wait time. Hertz's cure, WithIdleTimeout(0) (hand idle
		// connections back to netpoll), breaks keep-alive together with
		// streamed bodies in v0.10.4: the second request on a connection
		// is never answered.
		hserver.WithIdleTimeout(time.Minute),
	)
	// Telemetry first: its span, metrics and access log line cover every
	// other middleware, and see the 500 a recovered panic became.
	r.h.Use(hertztel.Middleware(), recoverer)
	r.h.Use(res.Middleware()...)
	r.h.NoRoute(func(ctx context.Context, c *app.RequestContext) {
		httperr.Respond(ctx, c, httperr.NotFound("HTTP 404 Not Found"))
	})
	r.h.NoMethod(func(ctx context.Context, c *app.RequestContext) {
		httperr.Respond(ctx, c, httperr.MethodNotAllowed())
	})

	tokens := &oauth.Server{
		Keys:       keys,
		Clients:    oauth.ClientsOf(cfg.OAuth.Clients),
		Accounts:   set.Account,
		Service:    svcTokens,
		AccessTTL:  cfg.OAuth.AccessTokenTTL,
		RefreshTTL: cfg.OAuth.RefreshTokenTTL,
		MaxBody:    cfg.HTTP.MaxBodyBytes,
		CallOpts:   accountOpts,
	}
	r.h.GET("/oauth/token", tokens.Handle)
	r.h.POST("/oauth/token", tokens.Handle)

	a := authn.New(keys, set.Account, svcTokens, accountOpts, cfg.HTTP.LegacyAccountTTL)
	rest.New(set, a, cfg.HTTP.MaxBodyBytes).KeepCatalogue(cfg.HTTP.CatalogueTTL).Register(r.h.Group("/restful"))

	// The storefront, the API browser and the OpenAPI document.
	web.Register(r.h)

	mux := http.NewServeMux()
	cserver.RegisterPprof(mux)
	mux.Handle("GET /debug/resilience", res)
	mux.Handle("GET /metrics", telemetry.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !r.Ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	r.admin = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := r.admin.Serve(adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("admin server stopped", "err", err)
		}
	}()
	go func() { r.done <- r.h.Run() }()
	if err := r.waitRunning(5 * time.Second); err != nil {
		adminLn.Close()
		return nil, err
	}
	slog.Info("gateway listening", "addr", ln.Addr().String(), "admin", adminLn.Addr().String())
	return r, nil
}

// waitRunning returns once Hertz serves, so that Ready and Shutdown see a
// running server.
func (r *Running) waitRunning(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for !r.h.IsRunning() {
		select {
		case err := <-r.done:
			return fmt.Errorf("gateway: http server: %w", err)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("gateway: http server did not start")
		}
	}
	return nil
}

// Addr is the HTTP listener's address.
func (r *Running) Addr() net.Addr { return r.ln.Addr() }

// AdminAddr is the admin listener's address.
func (r *Running) AdminAddr() net.Addr { return r.adminLn.Addr() }

// Ready reports whether the gateway takes traffic: its HTTP server runs and
// it is not draining. The domain services are not consulted: the gateway
// answers 503 for a service that is down, and its readiness flapping with
// theirs would only take the public endpoint away.
func (r *Running) Ready() bool { return !r.draining.Load() && r.h.IsRunning() }

// Shutdown turns readiness false, waits the drain delay so load balancers
// stop sending, then stops accepting and lets in-flight requests finish
// (up to the shutdown timeout).
func (r *Running) Shutdown(ctx context.Context) error {
	if !r.draining.CompareAndSwap(false, true) {
		return nil
	}
	if d := r.cfg.Server.DrainDelay; d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
	err := r.h.Shutdown(ctx)
	select {
	case runErr := <-r.done:
		if runErr != nil && !errors.Is(runErr, http.ErrServerClosed) {
			err = errors.Join(err, runErr)
		}
	case <-ctx.Done():
		err = errors.Join(err, ctx.Err())
	}
	return errors.Join(err, r.admin.Shutdown(ctx))
}

// Wait blocks until SIGTERM or SIGINT (or ctx is done) and shuts down
// gracefully; nil means a clean exit.
func (r *Running) Wait(ctx context.Context) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sig)
	select {
	case got := <-sig:
		slog.Info("shutting down", "signal", got.String())
	case err := <-r.done:
		return fmt.Errorf("gateway: http server stopped: %w", err)
	case <-ctx.Done():
	}
	shCtx, cancel := context.WithTimeout(context.Background(), r.cfg.Server.DrainDelay+r.cfg.Server.ShutdownTimeout+5*time.Second)
	defer cancel()
	return r.Shutdown(shCtx)
}
