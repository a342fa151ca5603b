package service

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cloudwego/kitex/server"
	"google.golang.org/protobuf/types/known/timestamppb"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/rpcerr"
	cserver "example.com/bookstore/common/server"
	"example.com/bookstore/idl/kitex_gen/account"
	"example.com/bookstore/idl/kitex_gen/account/accountservice"
	"example.com/bookstore/idl/kitex_gen/payment"
	"example.com/bookstore/idl/kitex_gen/payment/paymentservice"
	"example.com/bookstore/idl/kitex_gen/warehouse"
	"example.com/bookstore/idl/kitex_gen/warehouse/warehouseservice"
)

// The fakes below stand in for the domain services behind real Kitex
// servers (with the real auth middleware), so that the gateway's HTTP
// mapping, identity forwarding and error translation are exercised over
// the wire. They answer canned data and record what they were asked; they
// hold no business logic beyond what a test needs to steer them.

// call is one recorded RPC: the method, the request and who made it.
type call struct {
	method    string
	req       any
	principal auth.Principal
	anonymous bool
}

type recorder struct {
	mu    sync.Mutex
	calls []call
	// fail makes the named method return the error.
	fail map[string]error
	// delay makes the named method sleep (or until the call is abandoned).
	delay map[string]time.Duration
}

func (r *recorder) record(ctx context.Context, method string, req any) error {
	p, ok := auth.FromContext(ctx)
	r.mu.Lock()
	r.calls = append(r.calls, call{method: method, req: req, principal: p, anonymous: !ok})
	err := r.fail[method]
	d := r.delay[method]
	r.mu.Unlock()
	if d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
	return err
}

func (r *recorder) setFail(method string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail == nil {
		r.fail = map[string]error{}
	}
	r.fail[method] = err
}

func (r *recorder) setDelay(method string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.delay == nil {
		r.delay = map[string]time.Duration{}
	}
	r.delay[method] = d
}

// last returns the last call of method.
func (r *recorder) last(t *testing.T, method string) call {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.calls) - 1; i >= 0; i-- {
		if r.calls[i].method == method {
			return r.calls[i]
		}
	}
	t.Fatalf("no call of %s", method)
	return call{}
}

func (r *recorder) count(method string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		if c.method == method {
			n++
		}
	}
	return n
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls, r.fail, r.delay = nil, nil, nil
}

func str(s string) *string { return &s }

// fakeAccounts knows icyfenix (id 1, the admin) and alice (id 2).
type fakeAccounts struct{ recorder }

var seedAccounts = map[string]*account.Account{
	"icyfenix": {Id: 1, Username: "icyfenix", Name: str("周志明"), Avatar: str(""), Telephone: str("18888888888"),
		Email: str("icyfenix@gmail.com"), Location: str("唐家湾港湾大道科技一路3号远光软件股份有限公司")},
	"alice": {Id: 2, Username: "alice", Name: str("Alice")},
}

// wirePassword is the browser's encoding of "123456" (contract §3.3).
const wirePassword = "MFfTW3uNI4eqhwDkG7HP9p2mzEUu/r2"

func (f *fakeAccounts) GetAccount(ctx context.Context, req *account.GetAccountRequest) (*account.Account, error) {
	if err := f.record(ctx, "GetAccount", req); err != nil {
		return nil, err
	}
	if a, ok := seedAccounts[req.Username]; ok {
		return a, nil
	}
	return nil, rpcerr.New(rpcerr.NotFound, "用户不存在")
}

func (f *fakeAccounts) CreateAccount(ctx context.Context, in *account.AccountInput) (*account.Account, error) {
	if err := f.record(ctx, "CreateAccount", in); err != nil {
		return nil, err
	}
	return &account.Account{Id: 3, Username: in.GetUsername()}, nil
}

func (f *fakeAccounts) UpdateAccount(ctx context.Context, in *account.AccountInput) (*account.Account, error) {
	if err := f.record(ctx, "UpdateAccount", in); err != nil {
		return nil, err
	}
	return &account.Account{Id: in.GetId(), Username: in.GetUsername()}, nil
}

func (f *fakeAccounts) VerifyCredentials(ctx context.Context, req *account.VerifyCredentialsRequest) (*account.Principal, error) {
	if err := f.record(ctx, "VerifyCredentials", req); err != nil {
		return nil, err
	}
	a, ok := seedAccounts[req.Username]
	if !ok || req.Password != wirePassword {
		return nil, rpcerr.New(rpcerr.Unauthenticated, "用户名或密码不正确")
	}
	return &account.Principal{AccountId: a.Id, Username: a.Username, Roles: auth.RolesFor(a.Id)}, nil
}

type fakeWarehouse struct{ recorder }

func price(p float64) *float64 { return &p }

var seedProduct = &warehouse.Product{
	Id: 1, Title: "深入理解Java虚拟机（第3版）", Price: price(129), Rate: 9.6,
	Description: "<p>第3版</p>", Cover: "/static/cover/jvm3.jpg", Detail: "/static/desc/jvm3.jpg",
	Specifications: []*warehouse.Specification{{Id: 1, Item: "作者", Value: "周志明", ProductId: 1}},
}

func (f *fakeWarehouse) ListProducts(ctx context.Context, req *warehouse.ListProductsRequest) (*warehouse.ListProductsResponse, error) {
	if err := f.record(ctx, "ListProducts", req); err != nil {
		return nil, err
	}
	return &warehouse.ListProductsResponse{Products: []*warehouse.Product{seedProduct}}, nil
}

func (f *fakeWarehouse) GetProduct(ctx context.Context, req *warehouse.ProductIdRequest) (*warehouse.Product, error) {
	if err := f.record(ctx, "GetProduct", req); err != nil {
		return nil, err
	}
	if req.Id == 1 {
		return seedProduct, nil
	}
	return nil, rpcerr.New(rpcerr.NotFound, "商品不存在")
}

func (f *fakeWarehouse) CreateProduct(ctx context.Context, req *warehouse.ProductRequest) (*warehouse.Product, error) {
	if err := f.record(ctx, "CreateProduct", req); err != nil {
		return nil, err
	}
	p := *req.Product
	p.Id = 9
	return &p, nil
}

func (f *fakeWarehouse) UpdateProduct(ctx context.Context, req *warehouse.ProductRequest) (*warehouse.Product, error) {
	if err := f.record(ctx, "UpdateProduct", req); err != nil {
		return nil, err
	}
	return req.Product, nil
}

func (f *fakeWarehouse) DeleteProduct(ctx context.Context, req *warehouse.ProductIdRequest) (*warehouse.Empty, error) {
	if err := f.record(ctx, "DeleteProduct", req); err != nil {
		return nil, err
	}
	if req.Id != 1 {
		return nil, rpcerr.New(rpcerr.NotFound, "商品不存在")
	}
	return &warehouse.Empty{}, nil
}

func (f *fakeWarehouse) GetStockpile(ctx context.Context, req *warehouse.StockpileRequest) (*warehouse.Stockpile, error) {
	if err := f.record(ctx, "GetStockpile", req); err != nil {
		return nil, err
	}
	if req.ProductId != 1 {
		return nil, rpcerr.New(rpcerr.NotFound, "库存不存在")
	}
	return &warehouse.Stockpile{Id: 1, ProductId: 1, Amount: 30}, nil
}

func (f *fakeWarehouse) SetStockpile(ctx context.Context, req *warehouse.SetStockpileRequest) (*warehouse.Empty, error) {
	if err := f.record(ctx, "SetStockpile", req); err != nil {
		return nil, err
	}
	return &warehouse.Empty{}, nil
}

func (f *fakeWarehouse) ListAdvertisements(ctx context.Context, req *warehouse.ListAdvertisementsRequest) (*warehouse.ListAdvertisementsResponse, error) {
	if err := f.record(ctx, "ListAdvertisements", req); err != nil {
		return nil, err
	}
	return &warehouse.ListAdvertisementsResponse{Advertisements: []*warehouse.Advertisement{
		{Id: 1, Image: "/static/carousel/fenix2.png", ProductId: 8},
	}}, nil
}

func (f *fakeWarehouse) Freeze(ctx context.Context, req *warehouse.FreezeRequest) (*warehouse.FreezeResponse, error) {
	return nil, rpcerr.New(rpcerr.FailedPrecondition, "not used by the gateway")
}

func (f *fakeWarehouse) Thaw(ctx context.Context, req *warehouse.ReservationRequest) (*warehouse.Empty, error) {
	return nil, rpcerr.New(rpcerr.FailedPrecondition, "not used by the gateway")
}

func (f *fakeWarehouse) Decrease(ctx context.Context, req *warehouse.ReservationRequest) (*warehouse.Empty, error) {
	return nil, rpcerr.New(rpcerr.FailedPrecondition, "not used by the gateway")
}

type fakePayments struct{ recorder }

// paymentCreated is the createTime of the contract's example payment.
var paymentCreated = time.Date(2020, 3, 13, 16, 4, 53, 388_000_000, time.UTC)

func (f *fakePayments) Settle(ctx context.Context, req *payment.SettleRequest) (*payment.Payment, error) {
	if err := f.record(ctx, "Settle", req); err != nil {
		return nil, err
	}
	return &payment.Payment{
		Id: 0, CreateTime: timestamppb.New(paymentCreated), PayId: "0904ff25-819b-42d1-9651-dffd79a7893e",
		TotalPrice: 270, Expires: 120000,
		PaymentLink: "/pay/modify/0904ff25-819b-42d1-9651-dffd79a7893e?state=PAYED&accountId=1",
		PayState:    payment.PayState_WAITING,
	}, nil
}

func (f *fakePayments) Pay(ctx context.Context, req *payment.PayRequest) (*payment.Empty, error) {
	if err := f.record(ctx, "Pay", req); err != nil {
		return nil, err
	}
	return &payment.Empty{}, nil
}

func (f *fakePayments) Cancel(ctx context.Context, req *payment.PayIdRequest) (*payment.Empty, error) {
	if err := f.record(ctx, "Cancel", req); err != nil {
		return nil, err
	}
	return &payment.Empty{}, nil
}

func (f *fakePayments) GetPayment(ctx context.Context, req *payment.PayIdRequest) (*payment.Payment, error) {
	return nil, rpcerr.New(rpcerr.NotFound, "not used by the gateway")
}

func (f *fakePayments) GetWallet(ctx context.Context, req *payment.WalletRequest) (*payment.Wallet, error) {
	return nil, rpcerr.New(rpcerr.NotFound, "not used by the gateway")
}

// startKitex runs a fake behind a real Kitex server on 127.0.0.1:0 that
// verifies forwarded tokens with keys, as the real services do.
func startKitex(t *testing.T, keys *auth.Keys, newServer cserver.NewServerFunc) string {
	t.Helper()
	svc, err := cserver.Start(cserver.Config{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0"}, keys, nil, newServer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = svc.Shutdown(ctx)
	})
	return svc.Addr().String()
}

func accountServer(h account.AccountService) cserver.NewServerFunc {
	return func(opts []server.Option) server.Server { return accountservice.NewServer(h, opts...) }
}

func warehouseServer(h warehouse.WarehouseService) cserver.NewServerFunc {
	return func(opts []server.Option) server.Server { return warehouseservice.NewServer(h, opts...) }
}

func paymentServer(h payment.PaymentService) cserver.NewServerFunc {
	return func(opts []server.Option) server.Server { return paymentservice.NewServer(h, opts...) }
}
