package service

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/rpcclient"
	"example.com/bookstore/common/rpcerr"
	cserver "example.com/bookstore/common/server"
	"example.com/bookstore/gateway/internal/config"
	"example.com/bookstore/idl/kitex_gen/account"
	"example.com/bookstore/idl/kitex_gen/payment"
	"example.com/bookstore/idl/kitex_gen/warehouse"
)

const jwtKey = "601304E0-8AD4-40B0-BD51-0B432DC47461"

type env struct {
	t    *testing.T
	gw   *Running
	base string
	keys *auth.Keys
	acc  *fakeAccounts
	wh   *fakeWarehouse
	pay  *fakePayments
	live atomic.Pointer[config.Config]
	http *http.Client
}

func testConfig(accountAddr, warehouseAddr, paymentAddr string) config.Config {
	client := func(addr string) rpcclient.Config {
		// Generous: these tests check the mapping, and a loaded 2-core CI
		// machine has been seen to take over 3 s for an in-test RPC.
		return rpcclient.Config{Addr: addr, ConnectTimeout: 5 * time.Second, RPCTimeout: 15 * time.Second}
	}
	return config.Config{
		Server: cserver.Config{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second},
		Auth:   auth.Config{JWTKey: jwtKey},
		OAuth: config.OAuth{Clients: config.OAuthClients{
			BookstoreFrontend: "bookstore_secret", Account: "account_secret", Warehouse: "warehouse_secret",
			Payment: "payment_secret", Security: "security_secret",
		}},
		Clients: config.Clients{Account: client(accountAddr), Warehouse: client(warehouseAddr), Payment: client(paymentAddr)},
	}
}

// newEnv starts the three fakes behind real Kitex servers and the gateway
// in front of them.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, keys: auth.NewKeys(jwtKey), acc: &fakeAccounts{}, wh: &fakeWarehouse{}, pay: &fakePayments{}}
	cfg := testConfig(
		startKitex(t, e.keys, accountServer(e.acc)),
		startKitex(t, e.keys, warehouseServer(e.wh)),
		startKitex(t, e.keys, paymentServer(e.pay)),
	)
	e.start(cfg)
	return e
}

func (e *env) start(cfg config.Config) {
	e.live.Store(&cfg)
	gw, err := Start(cfg, e.live.Load)
	if err != nil {
		e.t.Fatal(err)
	}
	e.gw = gw
	e.base = "http://" + gw.Addr().String()
	e.http = &http.Client{Timeout: 20 * time.Second}
	e.t.Cleanup(func() {
		// Idle keep-alive connections would hold shutdown for its whole
		// wait time; a browser would drop them on the Connection: close
		// of its next request.
		e.http.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
	})
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(method, path, token, body string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "bearer "+token)
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) resp {
	e.t.Helper()
	res, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (r resp) is(t *testing.T, status int, body string) {
	t.Helper()
	if r.status != status || r.body != body {
		t.Fatalf("got %d %s\nwant %d %s", r.status, r.body, status, body)
	}
}

// userToken is a token as this gateway mints them (with account_id).
func (e *env) userToken(id int64, name string) string {
	e.t.Helper()
	return e.sign(auth.Claims{
		UserName: name, Username: name, Scope: []string{auth.ScopeBrowser}, Exp: time.Now().Add(time.Hour).Unix(),
		Authorities: auth.RolesFor(id), JTI: uuid.NewString(), ClientID: "bookstore_frontend", AccountID: id,
	})
}

// legacyToken is a token as the original Fenix system minted them: the
// contract's claims, no account_id.
func (e *env) legacyToken(name string, authorities ...string) string {
	e.t.Helper()
	return e.sign(auth.Claims{
		UserName: name, Username: name, Scope: []string{auth.ScopeBrowser}, Exp: 3164262430,
		Authorities: authorities, JTI: uuid.NewString(), ClientID: "bookstore_frontend",
	})
}

func (e *env) sign(c auth.Claims) string {
	e.t.Helper()
	tok, err := e.keys.Sign(c)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

const (
	productJSON = `{"id":1,"title":"深入理解Java虚拟机（第3版）","price":129.0,"rate":9.6,"description":"<p>第3版</p>",` +
		`"cover":"/static/cover/jvm3.jpg","detail":"/static/desc/jvm3.jpg",` +
		`"specifications":[{"id":1,"item":"作者","value":"周志明","productId":1}]}`
	okJSON     = `{"code":0,"message":"操作已成功"}`
	deniedJSON = `{"code":1,"message":"Access is denied"}`
)

func TestCatalogue(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/restful/products", "", "").is(t, 200, "["+productJSON+"]")
	e.do("GET", "/restful/products/1", "", "").is(t, 200, productJSON)
	e.do("GET", "/restful/advertisements", "", "").is(t, 200, `[{"id":1,"image":"/static/carousel/fenix2.png","productId":8}]`)

	r := e.do("GET", "/restful/products/404", "", "")
	r.is(t, 204, "")
	if got := e.wh.last(t, "GetProduct").req.(*warehouse.ProductIdRequest).Id; got != 404 {
		t.Fatalf("warehouse asked for %d", got)
	}
	for _, bad := range []string{"abc", "1.5", "-1", "99999999999999999999"} {
		r := e.do("GET", "/restful/products/"+bad, "", "")
		if r.status != 400 || !strings.HasPrefix(r.body, `{"code":1,"message":"商品ID`) {
			t.Fatalf("GET /products/%s: %d %s", bad, r.status, r.body)
		}
	}
	if ct := e.do("GET", "/restful/products/1", "", "").header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
}

func TestAccounts(t *testing.T) {
	e := newEnv(t)
	alice := e.userToken(2, "alice")

	e.do("GET", "/restful/accounts/icyfenix", alice, "").is(t, 200,
		`{"id":1,"username":"icyfenix","name":"周志明","avatar":"","telephone":"18888888888","email":"icyfenix@gmail.com",`+
			`"location":"唐家湾港湾大道科技一路3号远光软件股份有限公司"}`)
	e.do("GET", "/restful/accounts/alice", alice, "").is(t, 200,
		`{"id":2,"username":"alice","name":"Alice","avatar":null,"telephone":null,"email":null,"location":null}`)
	e.do("GET", "/restful/accounts/nobody", alice, "").is(t, 204, "")
	e.do("GET", "/restful/accounts/icyfenix", "", "").is(t, 403, deniedJSON)
	if c := e.acc.last(t, "GetAccount"); c.principal.Username != "alice" || c.principal.AccountID != 2 {
		t.Fatalf("account service saw %+v", c.principal)
	}

	// A service client's token may read accounts too (scope SERVICE).
	svc := e.sign(auth.Claims{Scope: []string{auth.ScopeService}, Exp: time.Now().Add(time.Hour).Unix(), JTI: "j", ClientID: "payment"})
	e.do("GET", "/restful/accounts/alice", svc, "").is(t, 200,
		`{"id":2,"username":"alice","name":"Alice","avatar":null,"telephone":null,"email":null,"location":null}`)

	// Registration: anonymous; unknown keys ignored; password passed on.
	e.do("POST", "/restful/accounts", "", `{"username":"bob","password":"wire","name":"Bob","email":"b@x.cn","extra":{"a":[1]}}`).is(t, 200, okJSON)
	in := e.acc.last(t, "CreateAccount").req.(*account.AccountInput)
	if in.GetUsername() != "bob" || in.GetPassword() != "wire" || in.GetName() != "Bob" || in.Telephone != nil {
		t.Fatalf("CreateAccount got %+v", in)
	}
	e.acc.setFail("CreateAccount", rpcerr.New(rpcerr.Conflict, "用户名称、邮箱、手机号码均不允许与现存用户重复"))
	e.do("POST", "/restful/accounts", "", `{"username":"icyfenix"}`).is(t, 400, `{"code":1,"message":"用户名称、邮箱、手机号码均不允许与现存用户重复"}`)
	e.acc.setFail("CreateAccount", rpcerr.New(rpcerr.InvalidArgument, "用户不允许为空；邮箱格式不正确"))
	e.do("POST", "/restful/accounts", "", `{"email":"x"}`).is(t, 400, `{"code":1,"message":"用户不允许为空；邮箱格式不正确"}`)

	// Update: owner only; an anonymous caller fails the owner validation.
	e.do("PUT", "/restful/accounts", "", `{"id":2,"username":"alice"}`).is(t, 400, `{"code":1,"message":"不是当前登陆用户"}`)
	e.do("PUT", "/restful/accounts", alice, `{"id":1,"username":"icyfenix"}`).is(t, 400, `{"code":1,"message":"不是当前登陆用户"}`)
	e.do("PUT", "/restful/accounts", alice, `{"id":2,"username":"alice","name":"Alice L","password":"$2a$10$hash"}`).is(t, 200, okJSON)
	up := e.acc.last(t, "UpdateAccount")
	if up.principal.AccountID != 2 || up.req.(*account.AccountInput).GetName() != "Alice L" {
		t.Fatalf("UpdateAccount got %+v by %+v", up.req, up.principal)
	}
	e.do("PUT", "/restful/accounts", alice, `{"id":"two"}`).is(t, 400, `{"code":1,"message":"字段 id 的类型不正确：不能是 string"}`)
}

func TestProductWritesNeedAdmin(t *testing.T) {
	e := newEnv(t)
	admin := e.userToken(1, "icyfenix")
	alice := e.userToken(2, "alice")
	body := `{"title":"新书","price":59.5,"rate":8,"description":"<b>d</b>","cover":"c","detail":"d",` +
		`"specifications":[{"item":"作者","value":"某人","productId":null}],"unknown":true}`

	e.do("POST", "/restful/products", admin, body).is(t, 200,
		`{"id":9,"title":"新书","price":59.5,"rate":8.0,"description":"<b>d</b>","cover":"c","detail":"d",`+
			`"specifications":[{"id":0,"item":"作者","value":"某人","productId":0}]}`)
	e.do("PUT", "/restful/products", admin, `{"id":1,"title":"t","price":1}`).is(t, 200, okJSON)
	if p := e.wh.last(t, "UpdateProduct").req.(*warehouse.ProductRequest).Product; p.Id != 1 || p.GetPrice() != 1 {
		t.Fatalf("UpdateProduct got %+v", p)
	}
	e.do("DELETE", "/restful/products/1", admin, "").is(t, 200, okJSON)
	e.do("DELETE", "/restful/products/10086", admin, "").is(t, 404, `{"code":1,"message":"商品不存在"}`)

	// A price left out reaches the warehouse as absent, which decides.
	e.wh.setFail("CreateProduct", rpcerr.New(rpcerr.InvalidArgument, "商品应当有明确的价格"))
	e.do("POST", "/restful/products", admin, `{"title":"x"}`).is(t, 400, `{"code":1,"message":"商品应当有明确的价格"}`)
	if e.wh.last(t, "CreateProduct").req.(*warehouse.ProductRequest).Product.Price != nil {
		t.Fatal("absent price sent as present")
	}

	for _, tok := range []string{"", alice} {
		e.do("POST", "/restful/products", tok, body).is(t, 403, deniedJSON)
		e.do("PUT", "/restful/products", tok, body).is(t, 403, deniedJSON)
		e.do("DELETE", "/restful/products/1", tok, "").is(t, 403, deniedJSON)
		e.do("GET", "/restful/products/stockpile/1", tok, "").is(t, 403, deniedJSON)
		e.do("PATCH", "/restful/products/stockpile/1?amount=3", tok, "").is(t, 403, deniedJSON)
	}
	// The body is validated before the caller's rights.
	e.do("POST", "/restful/products", "", `{"price":"cheap"}`).is(t, 400, `{"code":1,"message":"字段 price 的类型不正确：不能是 string"}`)
}

func TestStockpile(t *testing.T) {
	e := newEnv(t)
	admin := e.userToken(1, "icyfenix")
	e.do("GET", "/restful/products/stockpile/1", admin, "").is(t, 200, `{"id":1,"amount":30,"frozen":0,"product":null}`)
	e.do("GET", "/restful/products/stockpile/2", admin, "").is(t, 204, "")

	// The original's tests send a text body; it is ignored.
	req, _ := http.NewRequest("PATCH", e.base+"/restful/products/stockpile/1?amount=42", strings.NewReader("MUST_BE_PRESENT"))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "text/plain")
	e.send(req).is(t, 200, okJSON)
	if got := e.wh.last(t, "SetStockpile").req.(*warehouse.SetStockpileRequest); got.ProductId != 1 || got.Amount != 42 {
		t.Fatalf("SetStockpile got %+v", got)
	}
	for _, q := range []string{"", "?amount=", "?amount=abc", "?amount=1.5", "?amount=3000000000"} {
		r := e.do("PATCH", "/restful/products/stockpile/1"+q, admin, "")
		if r.status != 400 || !strings.Contains(r.body, "amount") {
			t.Fatalf("PATCH stockpile%s: %d %s", q, r.status, r.body)
		}
	}
}

const paymentJSON = `{"id":0,"createTime":"2020-03-13T16:04:53.388+0000","payId":"0904ff25-819b-42d1-9651-dffd79a7893e",` +
	`"totalPrice":270.0,"expires":120000,"paymentLink":"/pay/modify/0904ff25-819b-42d1-9651-dffd79a7893e?state=PAYED&accountId=1",` +
	`"payState":"WAITING"}`

func TestSettlement(t *testing.T) {
	e := newEnv(t)
	admin := e.userToken(1, "icyfenix")
	// What the frontend really sends: the account's fields mixed into purchase.
	body := `{"items":[{"amount":2,"id":1}],"purchase":{"name":"icyfenix","telephone":"18888888888","delivery":true,` +
		`"pay":"wechat","address":{"province":"广东省","city":"珠海市","area":"香洲区"},"location":"广东省 珠海市 香洲区 xx",` +
		`"id":1,"username":"icyfenix","password":"x","avatar":"","email":"icyfenix@gmail.com"}}`
	e.do("POST", "/restful/settlements", admin, body).is(t, 200, paymentJSON)
	c := e.pay.last(t, "Settle")
	req := c.req.(*payment.SettleRequest)
	if c.principal.AccountID != 1 || len(req.Items) != 1 || req.Items[0].ProductId != 1 || req.Items[0].Amount != 2 ||
		req.Purchase.GetPay() != "wechat" || !req.Purchase.GetDelivery() || req.Purchase.GetLocation() != "广东省 珠海市 香洲区 xx" {
		t.Fatalf("Settle got %+v by %+v", req, c.principal)
	}

	e.do("POST", "/restful/settlements", "", body).is(t, 403, deniedJSON)
	e.do("POST", "/restful/settlements", "", `{"items":[]}`).is(t, 400, `{"code":1,"message":"结算单中缺少商品清单；结算单中缺少配送信息"}`)
	e.do("POST", "/restful/settlements", admin, `{"items":[{"id":1,"amount":"2"}],"purchase":{}}`).is(t, 400,
		`{"code":1,"message":"字段 items.amount 的类型不正确：不能是 string"}`)

	e.pay.setFail("Settle", rpcerr.New(rpcerr.InsufficientStock, "商品库存不足"))
	e.do("POST", "/restful/settlements", admin, body).is(t, 400, `{"code":1,"message":"商品库存不足"}`)
	e.pay.setFail("Settle", rpcerr.New(rpcerr.Unavailable, "warehouse unreachable"))
	e.do("POST", "/restful/settlements", admin, body).is(t, 503, `{"code":1,"message":"payment 服务暂不可用"}`)
}

func TestPay(t *testing.T) {
	e := newEnv(t)
	alice := e.userToken(2, "alice")
	const id = "0904ff25-819b-42d1-9651-dffd79a7893e"

	e.do("PATCH", "/restful/pay/"+id+"?state=PAYED", alice, "").is(t, 200, okJSON)
	if got := e.pay.last(t, "Pay").req.(*payment.PayRequest); got.PayId != id || got.AccountId != 2 {
		t.Fatalf("Pay got %+v", got)
	}
	e.do("PATCH", "/restful/pay/"+id+"?state=CANCEL", alice, "").is(t, 200, okJSON)
	if got := e.pay.last(t, "Cancel").req.(*payment.PayIdRequest); got.PayId != id {
		t.Fatalf("Cancel got %+v", got)
	}
	for _, q := range []string{"", "?state=", "?state=FOO", "?state=NOT_SUPPORT", "?state=payed"} {
		r := e.do("PATCH", "/restful/pay/"+id+q, alice, "")
		if r.status != 400 || !strings.Contains(r.body, "state") {
			t.Fatalf("PATCH pay%s: %d %s", q, r.status, r.body)
		}
	}
	e.do("PATCH", "/restful/pay/"+id+"?state=PAYED", "", "").is(t, 403, deniedJSON)

	e.pay.setFail("Pay", rpcerr.New(rpcerr.FailedPrecondition, "用户余额不足以支付，请先充值"))
	e.do("PATCH", "/restful/pay/"+id+"?state=PAYED", alice, "").is(t, 500, `{"code":1,"message":"用户余额不足以支付，请先充值"}`)
	e.pay.setFail("Pay", rpcerr.New(rpcerr.NotFound, "支付单不存在"))
	e.do("PATCH", "/restful/pay/"+id+"?state=PAYED", alice, "").is(t, 404, `{"code":1,"message":"支付单不存在"}`)
	e.pay.setFail("Pay", rpcerr.New(rpcerr.PermissionDenied, "not yours"))
	e.do("PATCH", "/restful/pay/"+id+"?state=PAYED", alice, "").is(t, 403, deniedJSON)

	// The payment link works without a token and charges the named account.
	e.pay.setFail("Pay", nil)
	e.do("GET", "/restful/pay/modify/"+id+"?state=PAYED&accountId=1", "", "").is(t, 200, okJSON)
	c := e.pay.last(t, "Pay")
	if got := c.req.(*payment.PayRequest); got.PayId != id || got.AccountId != 1 || !c.anonymous {
		t.Fatalf("Pay by link got %+v (anonymous %v)", got, c.anonymous)
	}
	for _, q := range []string{"?state=PAYED", "?state=PAYED&accountId=abc", "?state=FOO&accountId=1"} {
		if r := e.do("GET", "/restful/pay/modify/"+id+q, "", ""); r.status != 400 {
			t.Fatalf("GET pay/modify%s: %d %s", q, r.status, r.body)
		}
	}
}

func TestBearerTokens(t *testing.T) {
	e := newEnv(t)
	expired := e.sign(auth.Claims{UserName: "alice", Scope: []string{"BROWSER"}, Exp: time.Now().Add(-time.Minute).Unix(), JTI: "j", ClientID: "bookstore_frontend", AccountID: 2})
	forged, _ := auth.NewKeys("another-key-of-16+chars").Sign(auth.Claims{UserName: "alice", Scope: []string{"BROWSER"}, Exp: time.Now().Add(time.Hour).Unix(), JTI: "j", ClientID: "bookstore_frontend"})
	refresh := e.sign(auth.Claims{UserName: "alice", Scope: []string{"BROWSER"}, Exp: time.Now().Add(time.Hour).Unix(), JTI: "j", ClientID: "bookstore_frontend", AccountID: 2, ATI: "a"})

	for name, tc := range map[string]struct{ token, desc string }{
		"expired": {expired, "Access token expired"},
		"forged":  {forged, "Invalid access token"},
		"garbage": {"not.a.jwt", "Invalid access token"},
		"refresh": {refresh, "Encoded token is a refresh token"},
	} {
		// Even a public endpoint refuses a bad token.
		r := e.do("GET", "/restful/products", tc.token, "")
		r.is(t, 401, `{"error":"invalid_token","error_description":"`+tc.desc+`"}`)
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), `Bearer error="invalid_token"`) {
			t.Fatalf("%s: WWW-Authenticate %q", name, r.header.Get("WWW-Authenticate"))
		}
	}

	alice := e.userToken(2, "alice")
	for _, header := range []string{"bearer " + alice, "Bearer " + alice, "BEARER  " + alice} {
		req, _ := http.NewRequest("GET", e.base+"/restful/accounts/alice", nil)
		req.Header.Set("Authorization", header)
		if r := e.send(req); r.status != 200 {
			t.Fatalf("Authorization %q: %d %s", header[:8], r.status, r.body)
		}
	}
	if r := e.do("GET", "/restful/accounts/alice?access_token="+alice, "", ""); r.status != 200 {
		t.Fatalf("access_token parameter: %d %s", r.status, r.body)
	}
	// Another scheme is no bearer token: the caller is anonymous.
	req, _ := http.NewRequest("GET", e.base+"/restful/accounts/alice", nil)
	req.SetBasicAuth("u", "p")
	e.send(req).is(t, 403, deniedJSON)
	// The token reaches the service, which verifies it again.
	e.do("GET", "/restful/products", alice, "")
	if c := e.wh.last(t, "ListProducts"); c.anonymous || c.principal.Username != "alice" {
		t.Fatalf("warehouse saw %+v", c)
	}
}

func TestLegacyToken(t *testing.T) {
	e := newEnv(t)
	// A token of the original system: no account_id claim.
	legacy := e.legacyToken("icyfenix", auth.RoleUser, auth.RoleAdmin)

	e.do("GET", "/restful/products/stockpile/1", legacy, "").is(t, 200, `{"id":1,"amount":30,"frozen":0,"product":null}`)
	c := e.wh.last(t, "GetStockpile")
	if c.principal.AccountID != 1 || c.principal.Username != "icyfenix" {
		t.Fatalf("warehouse saw %+v: the resolved account id must be forwarded", c.principal)
	}
	look := e.acc.last(t, "GetAccount")
	if look.req.(*account.GetAccountRequest).Username != "icyfenix" || !look.principal.HasScope(auth.ScopeService) || look.principal.ClientID != "gateway" {
		t.Fatalf("lookup %+v by %+v: must use the gateway's service token", look.req, look.principal)
	}

	e.do("PATCH", "/restful/pay/x?state=PAYED", legacy, "").is(t, 200, okJSON)
	if got := e.pay.last(t, "Pay").req.(*payment.PayRequest).AccountId; got != 1 {
		t.Fatalf("Pay charged account %d", got)
	}
	if n := e.acc.count("GetAccount"); n != 1 {
		t.Fatalf("account looked up %d times; the id must be cached", n)
	}

	// Roles come from the account, not from the token's claims.
	fake := e.legacyToken("alice", auth.RoleUser, auth.RoleAdmin)
	e.do("DELETE", "/restful/products/1", fake, "").is(t, 403, deniedJSON)
	// A legacy token of a user who no longer exists.
	e.do("PATCH", "/restful/pay/x?state=PAYED", e.legacyToken("ghost", auth.RoleUser), "").is(t, 401,
		`{"error":"invalid_token","error_description":"Unknown user"}`)
}

func (e *env) token(method string, params url.Values) resp {
	e.t.Helper()
	if method == "GET" {
		req, _ := http.NewRequest("GET", e.base+"/oauth/token?"+params.Encode(), nil)
		return e.send(req)
	}
	req, _ := http.NewRequest("POST", e.base+"/oauth/token", strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.send(req)
}

func TestTokenEndpoint(t *testing.T) {
	e := newEnv(t)
	login := url.Values{"username": {"IcyFenix"}, "password": {wirePassword}, "grant_type": {"password"},
		"client_id": {"bookstore_frontend"}, "client_secret": {"bookstore_secret"}}
	r := e.token("GET", login)
	if r.status != 200 || r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		t.Fatalf("login: %d %v %s", r.status, r.header, r.body)
	}
	var tok struct {
		AccessToken  string   `json:"access_token"`
		RefreshToken string   `json:"refresh_token"`
		ExpiresIn    int      `json:"expires_in"`
		Authorities  []string `json:"authorities"`
		Username     string   `json:"username"`
		JTI          string   `json:"jti"`
	}
	if err := json.Unmarshal([]byte(r.body), &tok); err != nil {
		t.Fatal(err)
	}
	if tok.Username != "icyfenix" || tok.ExpiresIn != 10799 || len(tok.Authorities) != 2 {
		t.Fatalf("login answer %s", r.body)
	}
	if v := e.acc.last(t, "VerifyCredentials"); v.req.(*account.VerifyCredentialsRequest).Username != "icyfenix" || v.principal.ClientID != "gateway" {
		t.Fatalf("VerifyCredentials %+v by %+v", v.req, v.principal)
	}
	// The issued token is accepted by the REST side and by the services.
	e.do("GET", "/restful/products/stockpile/1", tok.AccessToken, "").is(t, 200, `{"id":1,"amount":30,"frozen":0,"product":null}`)

	refresh := url.Values{"refresh_token": {tok.RefreshToken}, "grant_type": {"refresh_token"},
		"client_id": {"bookstore_frontend"}, "client_secret": {"bookstore_secret"}}
	r = e.token("GET", refresh)
	var again struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		JTI          string `json:"jti"`
	}
	if err := json.Unmarshal([]byte(r.body), &again); err != nil || r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	if again.RefreshToken != tok.RefreshToken || again.AccessToken == tok.AccessToken || again.JTI == tok.JTI {
		t.Fatalf("refresh must reuse the refresh token and issue a new access token: %s", r.body)
	}

	svc := e.token("POST", url.Values{"grant_type": {"client_credentials"}, "client_id": {"payment"}, "client_secret": {"payment_secret"}})
	if svc.status != 200 || !strings.Contains(svc.body, `"token_type":"bearer","expires_in":10799,"scope":"SERVICE","jti":"`) || strings.Contains(svc.body, "refresh_token") {
		t.Fatalf("client_credentials: %d %s", svc.status, svc.body)
	}

	bad := url.Values{"username": {"icyfenix"}, "password": {"wrong"}, "grant_type": {"password"},
		"client_id": {"bookstore_frontend"}, "client_secret": {"bookstore_secret"}}
	e.token("GET", bad).is(t, 400, `{"error":"invalid_grant","error_description":"Bad credentials"}`)
	bad.Set("username", "nobody")
	e.token("GET", bad).is(t, 400, `{"error":"invalid_grant","error_description":"Bad credentials"}`)

	e.acc.setFail("GetAccount", rpcerr.New(rpcerr.NotFound, "用户不存在"))
	e.token("GET", refresh).is(t, 400, `{"error":"invalid_grant","error_description":"Invalid refresh token"}`)
	e.acc.setFail("VerifyCredentials", rpcerr.New(rpcerr.Unavailable, "db down"))
	e.token("GET", login).is(t, 503, `{"error":"temporarily_unavailable","error_description":"account 服务暂不可用"}`)
}

func TestTokenEndpointAccountDown(t *testing.T) {
	e := &env{t: t, keys: auth.NewKeys(jwtKey)}
	e.start(testConfig(deadAddr(t), deadAddr(t), deadAddr(t)))
	login := url.Values{"username": {"icyfenix"}, "password": {wirePassword}, "grant_type": {"password"},
		"client_id": {"bookstore_frontend"}, "client_secret": {"bookstore_secret"}}
	e.token("POST", login).is(t, 503, `{"error":"temporarily_unavailable","error_description":"account 服务暂不可用"}`)
	e.do("GET", "/restful/products", "", "").is(t, 503, `{"code":1,"message":"warehouse 服务暂不可用"}`)
	e.do("PATCH", "/restful/pay/x?state=PAYED", e.legacyToken("icyfenix"), "").is(t, 503, `{"code":1,"message":"account 服务暂不可用"}`)
}

// deadAddr is an address on 127.0.0.1 where nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestServiceFailures(t *testing.T) {
	e := newEnv(t)

	// A handler failure that is not a business error: generic 500, no detail.
	e.wh.setFail("ListProducts", errors.New("sql: connection refused at 10.0.0.7"))
	r := e.do("GET", "/restful/products", "", "")
	r.is(t, 500, `{"code":1,"message":"服务器内部错误"}`)

	// A slow service: the (hot) rpc timeout turns it into 503.
	e.wh.setFail("ListProducts", nil)
	e.wh.setDelay("ListProducts", time.Second)
	cfg := *e.live.Load()
	cfg.Clients.Warehouse.RPCTimeout = 200 * time.Millisecond
	e.live.Store(&cfg)
	e.do("GET", "/restful/products", "", "").is(t, 503, `{"code":1,"message":"warehouse 服务暂不可用"}`)
}

func TestHTTPEdges(t *testing.T) {
	e := newEnv(t)
	admin := e.userToken(1, "icyfenix")

	e.do("GET", "/restful/nothing", "", "").is(t, 404, `{"code":1,"message":"HTTP 404 Not Found"}`)
	e.do("DELETE", "/restful/advertisements", "", "").is(t, 405, `{"code":1,"message":"HTTP 405 Method Not Allowed"}`)

	huge := `{"title":"` + strings.Repeat("x", 2<<20) + `"}`
	r := e.do("POST", "/restful/products", admin, huge)
	if r.status != 400 || !strings.HasPrefix(r.body, `{"code":1,"message":"请求体过大`) {
		t.Fatalf("huge body: %d %.200s", r.status, r.body)
	}
	// Without a Content-Length (chunked) the limit applies while reading.
	req, _ := http.NewRequest("POST", e.base+"/restful/products", io.MultiReader(strings.NewReader(huge)))
	req.Header.Set("Authorization", "bearer "+admin)
	if r := e.send(req); r.status != 400 || !strings.HasPrefix(r.body, `{"code":1,"message":"请求体过大`) {
		t.Fatalf("huge chunked body: %d %.200s", r.status, r.body)
	}
	for body, want := range map[string]string{
		`{"title":`:            "内容不完整",
		`{"title" "x"}`:        "语法错误",
		`[1,2]`:                "请求体应为 JSON 对象",
		`{"title":"a"} {}`:     "多余内容",
		`{"rate":1e300}`:       "rate",
		`{"price":[1]}`:        "字段 price 的类型不正确",
		`{"specifications":1}`: "字段 specifications 的类型不正确",
	} {
		r := e.do("POST", "/restful/products", admin, body)
		if r.status != 400 || !strings.Contains(r.body, want) || !strings.HasPrefix(r.body, `{"code":1,"message":`) {
			t.Fatalf("body %s: %d %s", body, r.status, r.body)
		}
	}
	if r := e.do("POST", "/restful/products", admin, ""); r.status != 400 {
		t.Fatalf("empty body: %d %s", r.status, r.body)
	}

	home := e.do("GET", "/", "", "")
	if home.status != 200 || !strings.Contains(home.body, "/restful") || strings.Contains(strings.ToUpper(home.body), "TODO") {
		t.Fatalf("home: %d %s", home.status, home.body)
	}
}

func TestHealthAndGracefulShutdown(t *testing.T) {
	e := &env{t: t, keys: auth.NewKeys(jwtKey), acc: &fakeAccounts{}, wh: &fakeWarehouse{}, pay: &fakePayments{}}
	cfg := testConfig(
		startKitex(t, e.keys, accountServer(e.acc)),
		startKitex(t, e.keys, warehouseServer(e.wh)),
		startKitex(t, e.keys, paymentServer(e.pay)),
	)
	cfg.Server.DrainDelay = 300 * time.Millisecond
	e.start(cfg)
	admin := "http://" + e.gw.AdminAddr().String()
	get := func(path string) int {
		res, err := http.Get(admin + path)
		if err != nil {
			return -1
		}
		res.Body.Close()
		return res.StatusCode
	}
	if get("/healthz") != 200 || get("/readyz") != 200 {
		t.Fatal("not healthy and ready after Start")
	}

	// A request in flight when shutdown begins still gets its answer.
	e.wh.setDelay("ListProducts", 500*time.Millisecond)
	done := make(chan resp, 1)
	go func() { done <- e.do("GET", "/restful/products", "", "") }()
	time.Sleep(150 * time.Millisecond)

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- e.gw.Shutdown(ctx)
	}()
	// Draining: not ready any more, while requests are still served.
	time.Sleep(100 * time.Millisecond)
	if got := get("/readyz"); got != http.StatusServiceUnavailable {
		t.Fatalf("readyz while draining: %d", got)
	}
	r := <-done
	if r.status != 200 || r.body != "["+productJSON+"]" {
		t.Fatalf("in-flight request: %d %s", r.status, r.body)
	}
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if e.gw.Ready() {
		t.Fatal("ready after shutdown")
	}
}

// TestKeepAlive sends several requests, with and without bodies, over one
// connection: every one must be answered (see the idle-timeout note in
// Start).
func TestKeepAlive(t *testing.T) {
	e := newEnv(t)
	conn, err := net.Dial("tcp", e.gw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	requests := []string{
		"GET /restful/advertisements HTTP/1.1\r\nHost: x\r\n\r\n",
		"PATCH /restful/products/stockpile/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
		"POST /restful/accounts HTTP/1.1\r\nHost: x\r\nContent-Length: 18\r\n\r\n{\"username\":\"bob\"}",
		"GET /restful/products/1 HTTP/1.1\r\nHost: x\r\n\r\n",
	}
	want := []int{200, 400, 200, 200}
	for i, r := range requests {
		if _, err := io.WriteString(conn, r); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != want[i] {
			t.Fatalf("response %d: status %d", i, res.StatusCode)
		}
	}
}
