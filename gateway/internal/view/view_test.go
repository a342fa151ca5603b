package view

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"example.com/bookstore/idl/kitex_gen/account"
	"example.com/bookstore/idl/kitex_gen/payment"
	"example.com/bookstore/idl/kitex_gen/warehouse"
)

func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func str(s string) *string { return &s }

func TestAccount(t *testing.T) {
	// The contract's example (§4.1) without the password hash.
	full := &account.Account{Id: 1, Username: "icyfenix", Name: str("周志明"), Avatar: str(""), Telephone: str("18888888888"),
		Email: str("icyfenix@gmail.com"), Location: str("唐家湾港湾大道科技一路3号远光软件股份有限公司")}
	want := `{"id":1,"username":"icyfenix","name":"周志明","avatar":"","telephone":"18888888888",` +
		`"email":"icyfenix@gmail.com","location":"唐家湾港湾大道科技一路3号远光软件股份有限公司"}`
	if got := marshal(t, AccountOf(full)); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// Absent optional fields are null, as Jackson writes a null String.
	sparse := &account.Account{Id: 2, Username: "bob"}
	want = `{"id":2,"username":"bob","name":null,"avatar":null,"telephone":null,"email":null,"location":null}`
	if got := marshal(t, AccountOf(sparse)); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func price(p float64) *float64 { return &p }

func TestProduct(t *testing.T) {
	p := &warehouse.Product{
		Id: 1, Title: "深入理解Java虚拟机（第3版）", Price: price(129), Rate: 9.6,
		Description: "<p>这是一部从工作原理 & 工程实践</p>", Cover: "/static/cover/jvm3.jpg", Detail: "/static/desc/jvm3.jpg",
		Specifications: []*warehouse.Specification{{Id: 1, Item: "作者", Value: "周志明", ProductId: 1}},
	}
	want := `{"id":1,"title":"深入理解Java虚拟机（第3版）","price":129.0,"rate":9.6,` +
		`"description":"<p>这是一部从工作原理 & 工程实践</p>","cover":"/static/cover/jvm3.jpg","detail":"/static/desc/jvm3.jpg",` +
		`"specifications":[{"id":1,"item":"作者","value":"周志明","productId":1}]}`
	if got := marshal(t, ProductOf(p)); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// Product 8 of the seeds: price and rate 0; no specifications is [].
	free := &warehouse.Product{Id: 8, Title: "凤凰架构", Price: price(0)}
	want = `{"id":8,"title":"凤凰架构","price":0.0,"rate":0.0,"description":"","cover":"","detail":"","specifications":[]}`
	if got := marshal(t, ProductOf(free)); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := marshal(t, ProductOf(&warehouse.Product{Id: 3})); got != `{"id":3,"title":"","price":null,"rate":0.0,"description":"","cover":"","detail":"","specifications":[]}` {
		t.Fatalf("absent price: %s", got)
	}
	if got := marshal(t, ProductsOf(nil)); got != `[]` {
		t.Fatalf("no products: %s", got)
	}
}

func TestNumbers(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{Double(0), "0.0"},
		{Double(129), "129.0"},
		{Double(270), "270.0"},
		{Double(59.5), "59.5"},
		{Double(0.1), "0.1"},
		{Double(-12), "-12.0"},
		{Double(1e21), "1e+21"},
		{Double(1.5e-7), "1.5e-07"},
		{Float(9.6), "9.6"},
		{Float(7.7), "7.7"},
		{Float(9), "9.0"},
		{Float(0), "0.0"},
	} {
		if got := marshal(t, tc.v); got != tc.want {
			t.Errorf("%T(%v): got %s, want %s", tc.v, tc.v, got, tc.want)
		}
	}
}

func TestTime(t *testing.T) {
	utc := time.Date(2020, 3, 13, 16, 4, 53, 388_000_000, time.UTC)
	if got := marshal(t, Time(utc)); got != `"2020-03-13T16:04:53.388+0000"` {
		t.Fatalf("got %s", got)
	}
	// Any zone is written as UTC; nanoseconds are cut to milliseconds.
	shanghai := time.FixedZone("CST", 8*3600)
	if got := marshal(t, Time(time.Date(2020, 3, 14, 0, 4, 53, 388_999_999, shanghai))); got != `"2020-03-13T16:04:53.388+0000"` {
		t.Fatalf("got %s", got)
	}
}

func TestPayment(t *testing.T) {
	p := &payment.Payment{
		Id:          0,
		CreateTime:  timestamppb.New(time.Date(2020, 3, 13, 16, 4, 53, 388_000_000, time.UTC)),
		PayId:       "0904ff25-819b-42d1-9651-dffd79a7893e",
		TotalPrice:  270,
		Expires:     120000,
		PaymentLink: "/pay/modify/0904ff25-819b-42d1-9651-dffd79a7893e?state=PAYED&accountId=1",
		PayState:    payment.PayState_WAITING,
	}
	// The contract's example (§4.3), key for key.
	want := `{"id":0,"createTime":"2020-03-13T16:04:53.388+0000","payId":"0904ff25-819b-42d1-9651-dffd79a7893e",` +
		`"totalPrice":270.0,"expires":120000,` +
		`"paymentLink":"/pay/modify/0904ff25-819b-42d1-9651-dffd79a7893e?state=PAYED&accountId=1","payState":"WAITING"}`
	if got := marshal(t, PaymentOf(p)); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	for state, name := range map[payment.PayState]string{
		payment.PayState_CANCEL: "CANCEL", payment.PayState_PAYED: "PAYED",
		payment.PayState_TIMEOUT: "TIMEOUT", payment.PayState_NOT_SUPPORT: "NOT_SUPPORT",
	} {
		if got := PaymentOf(&payment.Payment{PayState: state}).PayState; got != name {
			t.Errorf("state %d: %s", state, got)
		}
	}
	if got := marshal(t, PaymentOf(&payment.Payment{PayId: "x"})); got != `{"id":0,"createTime":null,"payId":"x","totalPrice":0.0,"expires":0,"paymentLink":"","payState":"WAITING"}` {
		t.Fatalf("no create time: %s", got)
	}
}

func TestStockpileAndAdvertisements(t *testing.T) {
	s := &warehouse.Stockpile{Id: 1, ProductId: 1, Amount: 30}
	if got := marshal(t, StockpileOf(s)); got != `{"id":1,"amount":30,"frozen":0,"product":null}` {
		t.Fatalf("stockpile: %s", got)
	}
	ads := []*warehouse.Advertisement{
		{Id: 1, Image: "/static/carousel/fenix2.png", ProductId: 8},
		{Id: 2, Image: "/static/carousel/ai.png", ProductId: 2},
		{Id: 3, Image: "/static/carousel/jvm3.png", ProductId: 1},
	}
	want := `[{"id":1,"image":"/static/carousel/fenix2.png","productId":8},{"id":2,"image":"/static/carousel/ai.png","productId":2},` +
		`{"id":3,"image":"/static/carousel/jvm3.png","productId":1}]`
	if got := marshal(t, AdvertisementsOf(ads)); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := marshal(t, AdvertisementsOf(nil)); got != `[]` {
		t.Fatalf("no ads: %s", got)
	}
}
