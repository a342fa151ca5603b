package service

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/common/ut"
	"github.com/cloudwego/hertz/pkg/route"
	"github.com/google/uuid"

	"example.com/bookstore/common/auth"
	cserver "example.com/bookstore/common/server"
)

// The fuzz targets drive every request decoder of the gateway through the
// whole HTTP stack (routing, token check, decoding, the Kitex calls to the
// fakes, error mapping) and hold it to one rule: whatever a client sends,
// the answer is not a 5xx, and a 4xx carries one of the contract's error
// bodies. Panics fail the target by themselves. `make fuzz` runs each one;
// `go test` runs their seeds (the contract's examples) and any input that
// once found a bug (testdata/fuzz).

// fuzzEnv is a gateway on fakes, driven in-process through its engine.
type fuzzEnv struct {
	engine *route.Engine
	fakes  []interface{ reset() }
	admin  string // icyfenix's token: ADMIN
	user   string // alice's token: USER
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	f.Helper()
	keys := auth.NewKeys(jwtKey)
	acc, wh, pay := &fakeAccounts{}, &fakeWarehouse{}, &fakePayments{}
	start := func(newServer cserver.NewServerFunc) string {
		svc, err := cserver.Start(cserver.Config{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0"}, keys, nil, newServer)
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = svc.Shutdown(ctx)
		})
		return svc.Addr().String()
	}
	cfg := testConfig(start(accountServer(acc)), start(warehouseServer(wh)), start(paymentServer(pay)))
	gw, err := Start(cfg, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
	})
	token := func(id int64, name string) string {
		tok, err := keys.Sign(auth.Claims{
			UserName: name, Username: name, Scope: []string{auth.ScopeBrowser}, Exp: time.Now().Add(24 * time.Hour).Unix(),
			Authorities: auth.RolesFor(id), JTI: uuid.NewString(), ClientID: "bookstore_frontend", AccountID: id,
		})
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	return &fuzzEnv{
		engine: gw.h.Engine,
		fakes:  []interface{ reset() }{acc, wh, pay},
		admin:  token(1, "icyfenix"),
		user:   token(2, "alice"),
	}
}

// do sends one request and checks the rule. The fakes forget the call
// afterwards, or a long run would keep every request in memory.
func (e *fuzzEnv) do(t *testing.T, method, target, token string, body []byte, headers ...ut.Header) {
	t.Helper()
	if token != "" {
		headers = append(headers, ut.Header{Key: "Authorization", Value: "bearer " + token})
	}
	var b *ut.Body
	if body != nil {
		b = &ut.Body{Body: bytes.NewReader(body), Len: len(body)}
		headers = append(headers, ut.Header{Key: "Content-Type", Value: "application/json"})
	}
	w := ut.PerformRequest(e.engine, method, target, b, headers...)
	for _, f := range e.fakes {
		f.reset()
	}
	checkAnswer(t, method+" "+target, w.Code, w.Body.Bytes())
}

// checkAnswer is the rule: no 5xx; a 4xx has exactly the CodedMessage
// {"code":1,"message":"..."} or the OAuth2 {"error":"...","error_description":"..."}.
func checkAnswer(t *testing.T, what string, status int, body []byte) {
	t.Helper()
	if status >= 500 {
		t.Fatalf("%s: %d %s", what, status, body)
	}
	if status < 400 {
		return
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s: %d with a body that is not a JSON object: %q", what, status, body)
	}
	msg, isMsg := m["message"].(string)
	code, isCode := m["code"].(json.Number)
	oauthErr, isErr := m["error"].(string)
	desc, isDesc := m["error_description"].(string)
	switch {
	case len(m) == 2 && isCode && code.String() == "1" && isMsg && msg != "":
	case len(m) == 2 && isErr && oauthErr != "" && isDesc && desc != "":
	default:
		t.Fatalf("%s: %d with a body in neither contract shape: %s", what, status, body)
	}
}

// Bodies from the contract (§4.1-§4.3) and the frontend, and near misses.
var (
	contractProduct = `{"id":1,"title":"深入理解Java虚拟机（第3版）","price":129.0,"rate":9.6,` +
		`"description":"<p>…html…</p>","cover":"/static/cover/jvm3.jpg","detail":"/static/desc/jvm3.jpg",` +
		`"specifications":[{"id":1,"item":"作者","value":"周志明","productId":1}]}`
	newProduct         = `{"title":"新书","price":0,"rate":0,"specifications":[{"item":"作者","value":"某人","productId":9}]}`
	contractAccount    = `{"id":1,"username":"icyfenix","password":"$2a$10$iIim4LtpT2yjxU2YVNDuO.yb1Z2lq86vYBZleAeuIh2aFXjyoMCM.","name":"周志明","avatar":"","telephone":"18888888888","email":"icyfenix@gmail.com","location":"唐家湾港湾大道科技一路3号远光软件股份有限公司"}`
	registration       = `{"username":"alice","password":"MFfTW3uNI4eqhwDkG7HP9p2mzEUu/r2","name":"Alice","email":"alice@example.com","telephone":"13800000000"}`
	contractSettlement = `{"items":[{"id":1,"amount":2}],"purchase":{"delivery":true,"pay":"wechat","name":"icyfenix","telephone":"18888888888","location":"xx rd. zhuhai. guangdong. china"}}`
	bodySeeds          = []string{
		``, `{}`, `null`, `[]`, `{"a":1} {}`, `{"title":`, `{"price":[1]}`, `{"rate":1e300}`, `{"id":-1}`,
		`{"items":[{"id":null,"amount":0}],"purchase":{}}`, `{"items":"many"}`, "{\"title\":\"\xff\"}",
		`{"specifications":[null]}`, `{"id":9223372036854775808}`, `{"amount":2147483648}`,
	}
)

func FuzzProductBody(f *testing.F) {
	for _, s := range append([]string{contractProduct, newProduct}, bodySeeds...) {
		f.Add(true, []byte(s))
		f.Add(false, []byte(s))
	}
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, create bool, body []byte) {
		method := "PUT"
		if create {
			method = "POST"
		}
		e.do(t, method, "/restful/products", e.admin, body)
	})
}

func FuzzAccountBody(f *testing.F) {
	for _, s := range append([]string{contractAccount, registration, `{"id":2,"username":"alice"}`}, bodySeeds...) {
		f.Add(true, []byte(s))
		f.Add(false, []byte(s))
	}
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, update bool, body []byte) {
		if update {
			e.do(t, "PUT", "/restful/accounts", e.user, body)
			return
		}
		e.do(t, "POST", "/restful/accounts", "", body)
	})
}

func FuzzSettlementBody(f *testing.F) {
	for _, s := range append([]string{contractSettlement}, bodySeeds...) {
		f.Add([]byte(s))
	}
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		e.do(t, "POST", "/restful/settlements", e.user, body)
	})
}

// FuzzPathID covers the numeric ids of the product routes (and the
// username of A1), with the amount query of W6.
func FuzzPathID(f *testing.F) {
	for route := range uint8(6) {
		for _, id := range []string{"1", "10086", "0", "-1", "+1", "1.5", "abc", "9223372036854775808", "", "%", "\xff", "１"} {
			f.Add(route, id, "amount=30")
		}
	}
	f.Add(uint8(4), "1", "amount=-5")
	f.Add(uint8(4), "1", "amount=2147483648")
	f.Add(uint8(4), "1", "amount=%zz")
	f.Add(uint8(4), "1", "")
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, route uint8, id, query string) {
		p := url.PathEscape(id)
		switch route % 6 {
		case 0:
			e.do(t, "GET", "/restful/products/"+p, "", nil)
		case 1:
			e.do(t, "DELETE", "/restful/products/"+p, e.admin, nil)
		case 2:
			e.do(t, "GET", "/restful/products/stockpile/"+p, e.admin, nil)
		case 3:
			e.do(t, "GET", "/restful/accounts/"+p, e.user, nil)
		case 4:
			e.do(t, "PATCH", "/restful/products/stockpile/"+p+"?"+query, e.admin, nil)
		case 5:
			e.do(t, "GET", "/restful/products/"+p+"?"+query, e.user, nil)
		}
	})
}

// FuzzPayQuery covers P2 and P3: the payId in the path and the state and
// accountId query parameters (raw, so malformed escapes get in too).
func FuzzPayQuery(f *testing.F) {
	const payID = "0904ff25-819b-42d1-9651-dffd79a7893e"
	for _, q := range []string{"state=PAYED", "state=CANCEL", "state=FOO", "state=NOT_SUPPORT", "state=", "", "state=PAYED&accountId=1",
		"state=PAYED&accountId=x", "state=PAYED&accountId=99999999999999999999", "state=%zz", "state=payed", "state=PAYED&state=CANCEL"} {
		f.Add(false, payID, q)
		f.Add(true, payID, q)
	}
	f.Add(false, "", "state=PAYED")
	f.Add(true, "\xff\xfe", "state=PAYED&accountId=1")
	f.Add(false, string(bytes.Repeat([]byte("x"), 65)), "state=CANCEL")
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, link bool, payID, query string) {
		if link {
			e.do(t, "GET", "/restful/pay/modify/"+url.PathEscape(payID)+"?"+query, "", nil)
			return
		}
		e.do(t, "PATCH", "/restful/pay/"+url.PathEscape(payID)+"?"+query, e.user, nil)
	})
}

// FuzzTokenEndpoint covers /oauth/token: its query string, a POSTed form
// with its content type, and the Authorization header (HTTP Basic).
func FuzzTokenEndpoint(f *testing.F) {
	// §3.3's three requests, and near misses.
	login := "username=icyfenix&password=MFfTW3uNI4eqhwDkG7HP9p2mzEUu%2Fr2&grant_type=password&client_id=bookstore_frontend&client_secret=bookstore_secret"
	refresh := "refresh_token=eyJhbGciOiJIUzI1NiJ9.e30.x&grant_type=refresh_token&client_id=bookstore_frontend&client_secret=bookstore_secret"
	service := "grant_type=client_credentials&client_id=payment&client_secret=payment_secret"
	form := "application/x-www-form-urlencoded"
	for _, q := range []string{login, refresh, service, "", "grant_type=password", "grant_type=implicit&client_id=bookstore_frontend&client_secret=bookstore_secret",
		login + "&scope=SERVICE", login + "&scope=", "%zz", "client_id=payment&client_secret=wrong&grant_type=client_credentials"} {
		f.Add(false, q, "", "", "")
		f.Add(true, "", q, form, "")
	}
	f.Add(true, "", service, form, "Basic cGF5bWVudDpwYXltZW50X3NlY3JldA==")
	f.Add(true, "client_id=account", "grant_type=client_credentials", form, "Basic cGF5bWVudDpwYXltZW50X3NlY3JldA==")
	f.Add(true, "", login, "multipart/form-data; boundary=x", "")
	f.Add(false, login, "", "", "Basic !!!")
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, post bool, query, body, contentType, authorization string) {
		var hs []ut.Header
		if authorization != "" {
			hs = append(hs, ut.Header{Key: "Authorization", Value: authorization})
		}
		target := "/oauth/token"
		if query != "" {
			target += "?" + query
		}
		if !post {
			e.doRaw(t, "GET", target, nil, hs...)
			return
		}
		if contentType != "" {
			hs = append(hs, ut.Header{Key: "Content-Type", Value: contentType})
		}
		e.doRaw(t, "POST", target, []byte(body), hs...)
	})
}

// doRaw is do without the JSON content type and the bearer token.
func (e *fuzzEnv) doRaw(t *testing.T, method, target string, body []byte, headers ...ut.Header) {
	t.Helper()
	var b *ut.Body
	if body != nil {
		b = &ut.Body{Body: bytes.NewReader(body), Len: len(body)}
	}
	w := ut.PerformRequest(e.engine, method, target, b, headers...)
	for _, f := range e.fakes {
		f.reset()
	}
	checkAnswer(t, method+" "+target, w.Code, w.Body.Bytes())
}
