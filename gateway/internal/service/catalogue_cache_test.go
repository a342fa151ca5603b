package service

import (
	"errors"
	"testing"
	"time"

	"example.com/bookstore/common/auth"
)

// startCaching starts the gateway over the fakes with the catalogue kept
// for ttl.
func startCaching(t *testing.T, ttl time.Duration) *env {
	t.Helper()
	e := &env{t: t, keys: auth.NewKeys(jwtKey), acc: &fakeAccounts{}, wh: &fakeWarehouse{}, pay: &fakePayments{}}
	cfg := testConfig(
		startKitex(t, e.keys, accountServer(e.acc)),
		startKitex(t, e.keys, warehouseServer(e.wh)),
		startKitex(t, e.keys, paymentServer(e.pay)),
	)
	cfg.HTTP.CatalogueTTL = ttl
	e.start(cfg)
	return e
}

func TestCatalogueKeptAndDroppedOnWrites(t *testing.T) {
	e := startCaching(t, time.Minute)
	admin := e.userToken(1, "icyfenix")
	reads := func() {
		t.Helper()
		e.do("GET", "/restful/products", "", "").is(t, 200, "["+productJSON+"]")
		// A caller's token does not change what the catalogue says.
		e.do("GET", "/restful/products/1", admin, "").is(t, 200, productJSON)
		e.do("GET", "/restful/advertisements", "", "").is(t, 200, `[{"id":1,"image":"/static/carousel/fenix2.png","productId":8}]`)
	}
	calls := func(list, get, ads int) {
		t.Helper()
		if l, g, a := e.wh.count("ListProducts"), e.wh.count("GetProduct"), e.wh.count("ListAdvertisements"); l != list || g != get || a != ads {
			t.Fatalf("warehouse calls: ListProducts %d, GetProduct %d, ListAdvertisements %d; want %d, %d, %d", l, g, a, list, get, ads)
		}
	}
	reads()
	reads()
	calls(1, 1, 1)

	// Unknown products are not kept: one may be created next.
	e.do("GET", "/restful/products/404", "", "").is(t, 204, "")
	e.do("GET", "/restful/products/404", "", "").is(t, 204, "")
	calls(1, 3, 1)

	for _, write := range []func(){
		func() { e.do("PUT", "/restful/products", admin, `{"id":1,"title":"t","price":1}`).is(t, 200, okJSON) },
		func() {
			if r := e.do("POST", "/restful/products", admin, `{"title":"x","price":1}`); r.status != 200 {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
		},
		func() { e.do("DELETE", "/restful/products/1", admin, "").is(t, 200, okJSON) },
	} {
		l, g, a := e.wh.count("ListProducts"), e.wh.count("GetProduct"), e.wh.count("ListAdvertisements")
		write()
		reads()
		reads()
		calls(l+1, g+1, a+1)
	}

	// A write the warehouse did not acknowledge may still have happened:
	// the kept answers go too.
	e.wh.setFail("UpdateProduct", errors.New("connection reset"))
	e.do("PUT", "/restful/products", admin, `{"id":1,"title":"t","price":1}`).is(t, 500, `{"code":1,"message":"服务器内部错误"}`)
	l := e.wh.count("ListProducts")
	e.do("GET", "/restful/products", "", "").is(t, 200, "["+productJSON+"]")
	if e.wh.count("ListProducts") != l+1 {
		t.Fatal("a failed write left the list kept")
	}
}

func TestCatalogueExpires(t *testing.T) {
	e := startCaching(t, 50*time.Millisecond)
	e.do("GET", "/restful/products", "", "").is(t, 200, "["+productJSON+"]")
	e.do("GET", "/restful/products", "", "").is(t, 200, "["+productJSON+"]")
	if n := e.wh.count("ListProducts"); n != 1 {
		t.Fatalf("ListProducts called %d times within the ttl", n)
	}
	time.Sleep(60 * time.Millisecond)
	e.do("GET", "/restful/products", "", "").is(t, 200, "["+productJSON+"]")
	if n := e.wh.count("ListProducts"); n != 2 {
		t.Fatalf("ListProducts called %d times after the ttl", n)
	}
}

func TestCatalogueOffByDefault(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/restful/products", "", "").is(t, 200, "["+productJSON+"]")
	e.do("GET", "/restful/products", "", "").is(t, 200, "["+productJSON+"]")
	if n := e.wh.count("ListProducts"); n != 2 {
		t.Fatalf("ListProducts called %d times, want every read", n)
	}
}
