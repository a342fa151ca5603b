package service_test

import (
	"context"
	"strings"
	"testing"

	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/idl/kitex_gen/warehouse"
)

func TestSeedFreshDatabase(t *testing.T) {
	e := newEnv(t)
	list := must[*warehouse.ListProductsResponse](t)(e.client.ListProducts(e.anon, &warehouse.ListProductsRequest{})).Products
	if len(list) != 8 {
		t.Fatalf("%d products, want 8", len(list))
	}
	specs := 0
	for i, p := range list {
		if p.Id != int64(i+1) {
			t.Errorf("product %d has id %d", i+1, p.Id)
		}
		specs += len(p.Specifications)
	}
	if specs != 70 {
		t.Errorf("%d specifications, want 70", specs)
	}

	p1 := must[*warehouse.Product](t)(e.client.GetProduct(e.anon, &warehouse.ProductIdRequest{Id: 1}))
	if p1.Title != "深入理解Java虚拟机（第3版）" || p1.Price == nil || *p1.Price != 129 || p1.Rate != 9.6 ||
		p1.Cover != "/static/cover/jvm3.jpg" || p1.Detail != "/static/desc/jvm3.jpg" || len(p1.Specifications) != 9 {
		t.Errorf("product 1 = %q %v %v %q %q, %d specs", p1.Title, p1.GetPrice(), p1.Rate, p1.Cover, p1.Detail, len(p1.Specifications))
	}
	p8 := must[*warehouse.Product](t)(e.client.GetProduct(e.anon, &warehouse.ProductIdRequest{Id: 8}))
	if p8.Price == nil || *p8.Price != 0 || p8.Rate != 0 {
		t.Errorf("product 8 price %v rate %v, want an explicit 0 and 0", p8.Price, p8.Rate)
	}
	p2 := must[*warehouse.Product](t)(e.client.GetProduct(e.anon, &warehouse.ProductIdRequest{Id: 2}))
	if !strings.Contains(p2.Description, `</p>\n<p>`) || strings.Contains(p2.Description, "\n") {
		t.Errorf("product 2's description must keep the two characters backslash-n")
	}

	for id := int64(1); id <= 8; id++ {
		s := must[*warehouse.Stockpile](t)(e.client.GetStockpile(e.service, &warehouse.StockpileRequest{ProductId: id}))
		if s.Id != id || s.ProductId != id || s.Amount != 30 || s.Frozen != 0 {
			t.Errorf("stockpile of %d = %+v", id, s)
		}
	}
	_, err := e.client.GetStockpile(e.service, &warehouse.StockpileRequest{ProductId: 9})
	wantCode(t, err, rpcerr.NotFound, "9")

	ads := must[*warehouse.ListAdvertisementsResponse](t)(e.client.ListAdvertisements(e.anon, &warehouse.ListAdvertisementsRequest{})).Advertisements
	wantAds := []warehouse.Advertisement{
		{Id: 1, Image: "/static/carousel/fenix2.png", ProductId: 8},
		{Id: 2, Image: "/static/carousel/ai.png", ProductId: 2},
		{Id: 3, Image: "/static/carousel/jvm3.png", ProductId: 1},
	}
	if len(ads) != len(wantAds) {
		t.Fatalf("%d advertisements, want 3", len(ads))
	}
	for i, a := range ads {
		if a.Id != wantAds[i].Id || a.Image != wantAds[i].Image || a.ProductId != wantAds[i].ProductId {
			t.Errorf("advertisement %d = %+v", i, a)
		}
	}

	wantRows(t, e, map[string]int64{"product": 8, "specification": 70, "stockpile": 8, "advertisement": 3})
}

func TestSeedOnceAcrossRestarts(t *testing.T) {
	cfg := testConfig(t)
	e := &env{cfg: cfg}
	// Each instance serves a call before it stops: a Kitex server stopped
	// the instant it started races with its own bootstrap.
	first := start(t, cfg)
	if n := len(listProducts(t, first)); n != 8 {
		t.Fatalf("first start: %d products, want 8", n)
	}
	first.stop(t)

	second := start(t, cfg)
	if n := len(listProducts(t, second)); n != 8 {
		t.Fatalf("restart: %d products, want 8", n)
	}
	wantRows(t, e, map[string]int64{"product": 8, "specification": 70, "stockpile": 8, "advertisement": 3, "seed": 1})

	// Emptied by an administrator, the catalogue stays empty after a restart:
	// the seed is for a new database only.
	gdb := openDB(t, cfg)
	for _, table := range []string{"specification", "stockpile", "advertisement", "product"} {
		if err := gdb.Exec("DELETE FROM " + table).Error; err != nil {
			t.Fatal(err)
		}
	}
	second.stop(t)
	third := start(t, cfg)
	if n := len(listProducts(t, third)); n != 0 {
		t.Fatalf("restart after emptying: %d products, want 0", n)
	}
	wantRows(t, e, map[string]int64{"product": 0, "specification": 0, "stockpile": 0, "advertisement": 0})
}

func listProducts(t *testing.T, in *instance) []*warehouse.Product {
	t.Helper()
	resp, err := newClient(t, in).ListProducts(context.Background(), &warehouse.ListProductsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Products
}

func wantRows(t *testing.T, e *env, want map[string]int64) {
	t.Helper()
	gdb := openDB(t, e.cfg)
	for table, n := range want {
		var got int64
		if err := gdb.Table(table).Count(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Errorf("%s has %d rows, want %d", table, got, n)
		}
	}
}
