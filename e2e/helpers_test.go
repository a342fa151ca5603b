package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"example.com/bookstore/e2e/stack"
)

// The seeded administrator and the browser's wire form of its password
// "123456" (contract §3.3).
const (
	adminUser = "icyfenix"
	adminWire = "MFfTW3uNI4eqhwDkG7HP9p2mzEUu/r2"
	jwtKey    = "601304E0-8AD4-40B0-BD51-0B432DC47461"
)

var (
	repoRoot string
	binDir   string
)

// TestMain builds the four binaries once; every test then starts its own
// stack from them, so tests depend on no order and share no state.
func TestMain(m *testing.M) {
	wd, _ := os.Getwd()
	root, err := stack.RepoRoot(wd)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	repoRoot = root
	if clusterURL != "" {
		// The store is already deployed; nothing to build.
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "bookstore-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	err = stack.Build(ctx, root, binDir, os.Getenv("E2E_RACE") == "1")
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// logWriter sends process output to the test log (shown on failure or -v).
type logWriter struct{ t testing.TB }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// clusterURL, when set, is the gateway of a deployed store (make cluster-e2e):
// the tests that need only its REST surface run against it instead of a
// stack of their own; the others skip.
var clusterURL = os.Getenv("CLUSTER_GATEWAY_URL")

// clusterSafe are the tests that neither configure, inspect nor stop the
// processes of their stack, and do not depend on the state other tests leave.
var clusterSafe = map[string]bool{
	"TestAccounts": true, "TestCatalogue": true, "TestOAuthTokens": true,
	"TestLegacyToken": true, "TestSettlementErrors": true,
}

// startStack starts a fresh store (free ports, empty data dir) for this test.
// withSlowLogins gives the gateway's account calls more time than the
// production 3 s unless a test sets it: a login is a bcrypt, and with many
// stacks running side by side on a 2-core CI machine one has been seen to
// take 3.4 s.
func withSlowLogins(env map[string]map[string]string) map[string]map[string]string {
	out := map[string]map[string]string{"gateway": {"CLIENTS_ACCOUNT_RPC_TIMEOUT": "15s"}}
	for svc, kv := range env {
		if out[svc] == nil {
			out[svc] = map[string]string{}
		}
		for k, v := range kv {
			out[svc][k] = v
		}
	}
	return out
}

func startStack(t *testing.T, env map[string]map[string]string) *stack.Stack {
	t.Helper()
	if clusterURL != "" {
		if env != nil || !clusterSafe[t.Name()] {
			t.Skip("CLUSTER_GATEWAY_URL is set: this test needs a stack of its own")
		}
		return &stack.Stack{GatewayURL: clusterURL}
	}
	s, err := stack.Start(context.Background(), stack.Options{
		Root:      repoRoot,
		BinDir:    binDir,
		DataDir:   filepath.Join(t.TempDir(), "data"),
		FreePorts: true,
		Env:       withSlowLogins(env),
		Log:       stack.SyncWriter(logWriter{t}),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stopping the stack: %v", err)
		}
	})
	return s
}

// api is a small HTTP client for the gateway.
type api struct {
	t    *testing.T
	base string
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it is not JSON.
func (r response) JSON(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("body is not JSON (%v): %q", err, r.Body)
	}
}

// Map decodes a JSON object body.
func (r response) Map(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

func (a api) do(method, path, token string, body any) response {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "bearer "+token)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// expect checks the status and, when msg is not empty, the contract's error
// body {"code":1,"message":msg} (or a message containing msg).
func (a api) expect(r response, status int, msg string) {
	a.t.Helper()
	if r.Status != status {
		a.t.Fatalf("status = %d, want %d; body %s", r.Status, status, r.Body)
	}
	if msg == "" {
		return
	}
	m := r.Map(a.t)
	if m["code"] != float64(1) {
		a.t.Fatalf("body %s: want code 1", r.Body)
	}
	if got, _ := m["message"].(string); !strings.Contains(got, msg) {
		a.t.Fatalf("message = %q, want it to contain %q", got, msg)
	}
}

// expectOK checks a command response: 200 {"code":0,"message":"操作已成功"}.
func (a api) expectOK(r response) {
	a.t.Helper()
	if r.Status != http.StatusOK {
		a.t.Fatalf("status = %d, want 200; body %s", r.Status, r.Body)
	}
	if string(r.Body) != `{"code":0,"message":"操作已成功"}` {
		a.t.Fatalf("body = %s, want the success CodedMessage", r.Body)
	}
}

// login runs the password grant the way the frontend does (GET with query).
func (a api) login(username, wire string) string {
	a.t.Helper()
	q := url.Values{
		"username": {username}, "password": {wire}, "grant_type": {"password"},
		"client_id": {"bookstore_frontend"}, "client_secret": {"bookstore_secret"},
	}
	r := a.do("GET", "/oauth/token?"+q.Encode(), "", nil)
	if r.Status != http.StatusOK {
		a.t.Fatalf("login %s: %d %s", username, r.Status, r.Body)
	}
	return r.Map(a.t)["access_token"].(string)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
