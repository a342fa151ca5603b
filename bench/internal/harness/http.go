package harness

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// newTransport is the load generator's HTTP transport: keep-alive
// connections, enough of them for every worker, no compression (the store
// sends none and the limit server must be spoken to identically).
func newTransport() *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        4096,
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
}

// reply is a response read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// call sends one request and reads the whole answer. body is sent as JSON
// unless it is already []byte.
func call(ctx context.Context, c *http.Client, method, rawURL, token string, body any) (reply, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return reply{}, err
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, r)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	}
	if token != "" {
		req.Header.Set("Authorization", "bearer "+token)
	}
	res, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: res.StatusCode, header: res.Header, body: b}, nil
}

// callSetup is call for the harness's own preparation, retried while the
// store answers 503 or not at all: a service that has just started (or
// restarted) may refuse its first calls on a loaded machine.
func callSetup(ctx context.Context, c *http.Client, method, rawURL, token string, body any) (reply, error) {
	var r reply
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		r, err = call(ctx, c, method, rawURL, token, body)
		if err == nil && r.status != http.StatusServiceUnavailable {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		}
	}
	return r, err
}

func (r reply) expect(what string, status int) error {
	if r.status != status {
		return fmt.Errorf("%s: status %d, want %d: %.300s", what, r.status, status, r.body)
	}
	return nil
}

// tokenQuery is the password grant as the frontend sends it (GET, query).
func tokenQuery(username, wire string) string {
	return url.Values{
		"username": {username}, "password": {wire}, "grant_type": {"password"},
		"client_id": {"bookstore_frontend"}, "client_secret": {"bookstore_secret"},
	}.Encode()
}

// accountIDOf reads the account_id claim of a token the store issued. The
// harness trusts its own store: no signature check is needed here.
func accountIDOf(token string) (int64, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return 0, fmt.Errorf("not a JWT: %.40s", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return 0, err
	}
	var claims struct {
		AccountID int64 `json:"account_id"`
	}
	if err := json.Unmarshal(b, &claims); err != nil {
		return 0, err
	}
	if claims.AccountID == 0 {
		return 0, fmt.Errorf("token has no account_id")
	}
	return claims.AccountID, nil
}

// A flow is a dependent sequence of requests (settle, then pay the payment
// settle returned) that the load generator counts as one unit. vegeta
// attacks single requests, so a flow travels as a request with method
// flowMethod; flowTransport runs its steps over the real transport and
// answers 200 if every step succeeded, else the failed step's status.
const flowMethod = "FLOW"

// flowFunc runs one flow against base (scheme://host) and returns the
// number of payments it completed.
type flowFunc func(ctx context.Context, c *http.Client, base string, arg int) (paid int, err error)

type flowTransport struct {
	inner *http.Transport
	steps *http.Client
	flows map[string]flowFunc
	// paid counts completed payments per host, for the oversell check.
	paid map[string]*atomic.Int64
}

func newFlowTransport(flows map[string]flowFunc) *flowTransport {
	inner := newTransport()
	return &flowTransport{inner: inner, steps: &http.Client{Transport: inner}, flows: flows, paid: map[string]*atomic.Int64{}}
}

// counter returns the paid counter of host; call before the load starts
// (the map is not guarded).
func (t *flowTransport) counter(host string) *atomic.Int64 {
	c, ok := t.paid[host]
	if !ok {
		c = new(atomic.Int64)
		t.paid[host] = c
	}
	return c
}

// flowURL names a flow and its argument (the buyer's index) as a URL.
func flowURL(base, flow string, arg int) string {
	return fmt.Sprintf("%s/flow/%s/%d", base, flow, arg)
}

func (t *flowTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != flowMethod {
		return t.inner.RoundTrip(req)
	}
	if req.Body != nil {
		req.Body.Close()
	}
	var name string
	var arg int
	if _, err := fmt.Sscanf(strings.ReplaceAll(req.URL.Path, "/", " "), " flow %s %d", &name, &arg); err != nil {
		return nil, fmt.Errorf("bad flow URL %s", req.URL)
	}
	f, ok := t.flows[name]
	if !ok {
		return nil, fmt.Errorf("unknown flow %q", name)
	}
	base := req.URL.Scheme + "://" + req.URL.Host
	paid, err := f(req.Context(), t.steps, base, arg)
	if paid > 0 {
		if c, ok := t.paid[req.URL.Host]; ok {
			c.Add(int64(paid))
		}
	}
	res := &http.Response{
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Request: req, StatusCode: http.StatusOK, Status: "200 OK",
		Body: http.NoBody,
	}
	if err != nil {
		if se, ok := err.(*stepError); ok {
			res.StatusCode = se.status
		} else if req.Context().Err() != nil {
			return nil, err
		} else {
			res.StatusCode = 599
		}
		msg := err.Error()
		res.Status = fmt.Sprintf("%d %s", res.StatusCode, msg)
		res.Body = io.NopCloser(strings.NewReader(msg))
		res.ContentLength = int64(len(msg))
	}
	return res, nil
}

// stepError is a step of a flow answered with an unexpected status.
type stepError struct {
	step   string
	status int
	body   string
}

func (e *stepError) Error() string {
	return fmt.Sprintf("%s: %d %.200s", e.step, e.status, e.body)
}

// step runs one request of a flow and requires a 200.
func step(ctx context.Context, c *http.Client, name, method, rawURL, token string, body []byte) ([]byte, error) {
	var payload any
	if body != nil {
		payload = body
	}
	r, err := call(ctx, c, method, rawURL, token, payload)
	if err != nil {
		return nil, err
	}
	if r.status != http.StatusOK {
		return nil, &stepError{step: name, status: r.status, body: string(r.body)}
	}
	return r.body, nil
}
