// Package server runs a service's Kitex server and its admin HTTP listener
// (/healthz, /readyz) with the store's common server options, and shuts both
// down gracefully: readiness turns false first, in-flight calls finish, then
// the process may exit.
package server

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

	"github.com/cloudwego/kitex/pkg/transmeta"
	"github.com/cloudwego/kitex/server"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/telemetry"
)

// Config is the [server] section of a service's config.
type Config struct {
	// Addr is where Kitex listens, e.g. "127.0.0.1:8810"; never Kitex's
	// ":8888" default. Port 0 picks a free port (tests).
	Addr string `mapstructure:"addr" validate:"required,hostname_port"`
	// AdminAddr serves /healthz, /readyz and /metrics.
	AdminAddr string `mapstructure:"admin_addr" validate:"required,hostname_port"`
	// DrainDelay is how long readiness reports false before the listener
	// closes, so that load balancers stop sending new calls first.
	DrainDelay time.Duration `mapstructure:"drain_delay"`
	// ShutdownTimeout bounds how long in-flight calls may take to finish.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`
}

// ReadyFunc reports whether the service can serve (its database answers).
type ReadyFunc func(ctx context.Context) error

// NewServerFunc builds the service's Kitex server from options; it is the
// generated `xxxservice.NewServer(handler, opts...)`.
type NewServerFunc func(opts []server.Option) server.Server

// Service is a running Kitex server plus its admin listener.
type Service struct {
	cfg      Config
	kitex    server.Server
	ln       net.Listener
	admin    *http.Server
	adminLn  net.Listener
	draining atomic.Bool
	stop     chan error
	done     chan error
}

// Start listens on cfg.Addr and cfg.AdminAddr and serves until Shutdown.
// keys, when non-nil, makes every call's token verified (auth.ServerMiddleware).
func Start(cfg Config, keys *auth.Keys, ready ReadyFunc, newServer NewServerFunc, extra ...server.Option) (*Service, error) {
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("server: listen %s: %w", cfg.Addr, err)
	}
	adminLn, err := net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("server: admin listen %s: %w", cfg.AdminAddr, err)
	}
	kln, err := NetpollListener(ln.(*net.TCPListener))
	if err != nil {
		ln.Close()
		adminLn.Close()
		return nil, err
	}
	s := &Service{cfg: cfg, ln: ln, adminLn: adminLn, stop: make(chan error, 1), done: make(chan error, 1)}

	opts := []server.Option{
		server.WithListener(kln),
		server.WithMetaHandler(transmeta.ServerTTHeaderHandler),
		server.WithExitWaitTime(cfg.ShutdownTimeout),
		// We own signal handling (Wait); Kitex stops only when told to.
		server.WithExitSignal(func() <-chan error { return s.stop }),
	}
	// Before every other middleware: the call's span and log line cover them.
	opts = append(opts, telemetry.ServerOptions()...)
	if keys != nil {
		opts = append(opts, server.WithMiddleware(auth.ServerMiddleware(keys)))
	}
	s.kitex = newServer(append(opts, extra...))

	mux := http.NewServeMux()
	RegisterPprof(mux)
	mux.Handle("GET /metrics", telemetry.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := ready(ctx); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.Write([]byte("ok\n"))
	})
	s.admin = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := s.admin.Serve(adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("admin server stopped", "err", err)
		}
	}()
	go func() { s.done <- s.kitex.Run() }()
	if err := s.waitServing(5 * time.Second); err != nil {
		s.Shutdown(context.Background())
		return nil, err
	}
	return s, nil
}

// waitServing returns once Kitex's event loop serves the listener: it opens a
// connection, says nothing, and waits for the server to see the EOF and hang up. Until
// then Kitex is still setting up its transport in another goroutine, and a
// Shutdown racing with that set-up is a data race inside Kitex.
func (s *Service) waitServing(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	conn, err := net.DialTimeout("tcp", s.ln.Addr().String(), timeout)
	if err != nil {
		return fmt.Errorf("server: probe %s: %w", s.ln.Addr(), err)
	}
	defer conn.Close()
	conn.SetDeadline(deadline)
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		return fmt.Errorf("server: probe %s: %w", s.ln.Addr(), err)
	}
	buf := make([]byte, 64)
	for {
		if _, err := conn.Read(buf); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return fmt.Errorf("server: %s not serving after %s", s.ln.Addr(), timeout)
			}
			return nil // closed by the server: its event loop is running
		}
	}
}

// Addr is the address the Kitex server listens on.
func (s *Service) Addr() net.Addr { return s.ln.Addr() }

// AdminAddr is the address of the admin listener.
func (s *Service) AdminAddr() net.Addr { return s.adminLn.Addr() }

// Mux returns the admin listener's handler so a service can add routes
// (metrics, debug) before traffic arrives.
func (s *Service) Mux() *http.ServeMux { return s.admin.Handler.(*http.ServeMux) }

// Shutdown turns readiness false, waits DrainDelay, then stops the Kitex
// server, which waits for in-flight calls (up to ShutdownTimeout).
func (s *Service) Shutdown(ctx context.Context) error {
	if !s.draining.CompareAndSwap(false, true) {
		return nil
	}
	if s.cfg.DrainDelay > 0 {
		select {
		case <-time.After(s.cfg.DrainDelay):
		case <-ctx.Done():
		}
	}
	s.stop <- nil
	var err error
	select {
	case err = <-s.done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	aerr := s.admin.Shutdown(ctx)
	return errors.Join(err, aerr)
}

// Wait blocks until SIGTERM or SIGINT (or ctx is done), then shuts down
// gracefully. A clean shutdown returns nil, so main can exit 0.
func (s *Service) Wait(ctx context.Context) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sig)
	select {
	case got := <-sig:
		slog.Info("shutting down", "signal", got.String())
	case err := <-s.done:
		// The server stopped on its own: that is a failure.
		return fmt.Errorf("server: kitex stopped: %w", err)
	case <-ctx.Done():
	}
	shCtx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainDelay+s.cfg.ShutdownTimeout+5*time.Second)
	defer cancel()
	return s.Shutdown(shCtx)
}
