package service

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/cloudwego/kitex/pkg/endpoint"
	kserver "github.com/cloudwego/kitex/server"

	"example.com/bookstore/idl/kitex_gen/account"
)

func httpGet(t *testing.T, hostport, path string) int {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + hostport + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// holdCreate makes a CreateAccount of the username "slow" wait, once inside
// the server, until release is closed.
func holdCreate(entered chan<- struct{}, release <-chan struct{}) kserver.Option {
	return kserver.WithMiddleware(func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req, resp any) error {
			if args, ok := req.(*account.AccountServiceCreateAccountArgs); ok && args.Input != nil && args.Input.GetUsername() == "slow" {
				entered <- struct{}{}
				<-release
			}
			return next(ctx, req, resp)
		}
	})
}

func TestGracefulShutdownFinishesInFlightCall(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	e := startEnv(t, holdCreate(entered, release))
	admin := e.run.AdminAddr().String()

	type result struct {
		a   *account.Account
		err error
	}
	call := make(chan result, 1)
	go func() {
		a, err := e.client.CreateAccount(context.Background(), &account.AccountInput{Username: s("slow"), Password: s("w"), Name: s("Slow")})
		call <- result{a, err}
	}()
	select {
	case <-entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the call never reached the server")
	}

	stopped := make(chan error, 1)
	go func() { stopped <- e.stop() }()

	// Shutdown has begun (readiness is off) but waits for the call. Off is
	// 503 or a refused connection: Kitex's shutdown closes its listener's
	// fd number more than once (netpoll), which has been seen to break the
	// admin listener too.
	deadline := time.Now().Add(10 * time.Second)
	for httpGet(t, admin, "/readyz") == http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("readiness never turned false")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case err := <-stopped:
		t.Fatalf("shutdown returned (%v) while a call was in flight", err)
	case <-time.After(300 * time.Millisecond):
	}

	close(release)
	select {
	case r := <-call:
		if r.err != nil {
			t.Fatalf("in-flight call failed: %v", r.err)
		}
		if r.a.Username != "slow" || r.a.Id == 0 {
			t.Errorf("in-flight call returned %v", r.a)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("in-flight call did not complete")
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("shutdown did not return")
	}
	if code := httpGet(t, admin, "/healthz"); code != 0 {
		t.Errorf("admin listener still answers (%d) after shutdown", code)
	}
}
