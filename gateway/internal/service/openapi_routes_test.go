package service

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/rpcclient"
	cserver "example.com/bookstore/common/server"
	"example.com/bookstore/gateway/internal/config"
	"example.com/bookstore/gateway/internal/web"
)

// TestOpenAPIDocumentsEveryRoute: every route the running gateway has
// registered is in the OpenAPI document served at /openapi.json, and every
// operation of the document is a registered route. Only the web package's
// own pages and files are exempt. A new endpoint without documentation, or
// documentation of an endpoint that went away, fails here.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	// Kitex clients connect lazily: no service needs to run for the routes.
	client := rpcclient.Config{Addr: "127.0.0.1:1", ConnectTimeout: time.Second, RPCTimeout: time.Second}
	gw, err := Start(config.Config{
		Server:  cserver.Config{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second},
		Auth:    auth.Config{JWTKey: "openapi-route-test"},
		Clients: config.Clients{Account: client, Warehouse: client, Payment: client},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	httpc := &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(func() {
		// An idle keep-alive connection would hold shutdown for its whole wait.
		httpc.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
	})

	exempt := map[string]bool{}
	for _, r := range web.Routes {
		exempt[r.Method+" "+r.Path] = true
	}
	// Hertz writes parameters as :name and *name, OpenAPI as {name}.
	param := regexp.MustCompile(`[:*]([A-Za-z_][A-Za-z0-9_]*)`)
	var registered []string
	for _, r := range gw.h.Routes() {
		if exempt[r.Method+" "+r.Path] {
			continue
		}
		registered = append(registered, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
	}

	// The document as a client gets it.
	res, err := httpc.Get("http://" + gw.Addr().String() + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatalf("GET /openapi.json: %d, not JSON: %v", res.StatusCode, err)
	}
	var documented []string
	for p, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				documented = append(documented, strings.ToUpper(method)+" "+p)
			}
		}
	}
	slices.Sort(registered)
	slices.Sort(documented)
	if len(registered) == 0 {
		t.Fatal("the gateway registered no routes outside the web package")
	}
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("registered but not in the OpenAPI document: %s", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("in the OpenAPI document but not registered: %s", d)
		}
	}
	if !t.Failed() {
		t.Logf("%d routes, all documented", len(registered))
	}
}
