package service_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"

	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/idl/kitex_gen/warehouse"
	"example.com/bookstore/idl/kitex_gen/warehouse/warehouseservice"
)

func newProduct() *warehouse.Product {
	return &warehouse.Product{
		Title: "凤凰架构（第2版）", Price: price(29.99), Rate: 9.5,
		Description: "<p>新书</p>", Cover: "/static/cover/fenix.png", Detail: "/static/desc/fenix.jpg",
		Specifications: []*warehouse.Specification{{Item: "作者", Value: "周志明"}, {Item: "装帧", Value: "平装"}},
	}
}

func TestCreateProduct(t *testing.T) {
	e := newEnv(t)
	got := must[*warehouse.Product](t)(e.client.CreateProduct(e.admin, &warehouse.ProductRequest{Product: newProduct()}))
	if got.Id != 9 {
		t.Errorf("new product id = %d, want 9 (after the seed)", got.Id)
	}
	if got.GetPrice() != 29.99 || got.Title != "凤凰架构（第2版）" || got.Rate != 9.5 || len(got.Specifications) != 2 {
		t.Errorf("created = %+v", got)
	}
	for i, s := range got.Specifications {
		if s.Id != int64(71+i) || s.ProductId != 9 {
			t.Errorf("spec %d = %+v, want id %d of product 9", i, s, 71+i)
		}
	}
	// Its stockpile exists at once (contract §14.5): amount 0, frozen 0.
	s := must[*warehouse.Stockpile](t)(e.client.GetStockpile(e.admin, &warehouse.StockpileRequest{ProductId: 9}))
	if s.ProductId != 9 || s.Id != 9 || s.Amount != 0 || s.Frozen != 0 {
		t.Errorf("stockpile of the new product = %+v", s)
	}
	read := must[*warehouse.Product](t)(e.client.GetProduct(e.anon, &warehouse.ProductIdRequest{Id: 9}))
	if read.GetPrice() != 29.99 {
		t.Errorf("price read back = %v, want exactly 29.99", read.GetPrice())
	}
}

func TestProductValidation(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		modify func(*warehouse.Product)
		want   string
	}{
		{"no title", func(p *warehouse.Product) { p.Title = "" }, "商品名称不允许为空"},
		{"no price", func(p *warehouse.Product) { p.Price = nil }, "商品应当有明确的价格"},
		{"negative price", func(p *warehouse.Product) { p.Price = price(-1) }, "商品价格最低为零"},
		{"negative rate", func(p *warehouse.Product) { p.Rate = -0.1 }, "评分最低为0"},
		{"rate above 10", func(p *warehouse.Product) { p.Rate = 10.1 }, "评分最高为10"},
		{"empty spec item", func(p *warehouse.Product) { p.Specifications[0].Item = "" }, "商品规格名称不允许为空"},
		{"empty spec value", func(p *warehouse.Product) { p.Specifications[1].Value = "" }, "商品规格内容不允许为空"},
		{"several", func(p *warehouse.Product) { p.Title = ""; p.Price = nil }, "商品名称不允许为空；商品应当有明确的价格"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProduct()
			tt.modify(p)
			_, err := e.client.CreateProduct(e.admin, &warehouse.ProductRequest{Product: p})
			wantCode(t, err, rpcerr.InvalidArgument, tt.want)
			p.Id = 1
			_, err = e.client.UpdateProduct(e.admin, &warehouse.ProductRequest{Product: p})
			wantCode(t, err, rpcerr.InvalidArgument, tt.want)
		})
	}
	_, err := e.client.CreateProduct(e.admin, &warehouse.ProductRequest{})
	wantCode(t, err, rpcerr.InvalidArgument, "商品名称不允许为空；商品应当有明确的价格")
	wantRows(t, e, map[string]int64{"product": 8, "specification": 70, "stockpile": 8})
}

func TestUpdateProduct(t *testing.T) {
	e := newEnv(t)
	p := must[*warehouse.Product](t)(e.client.GetProduct(e.anon, &warehouse.ProductIdRequest{Id: 1}))
	sort.Slice(p.Specifications, func(i, j int) bool { return p.Specifications[i].Id < p.Specifications[j].Id })
	// The frontend sends the product back with its specifications: kept ones
	// with their ids, new ones without.
	upd := &warehouse.Product{
		Id: 1, Title: "深入理解Java虚拟机（第4版）", Price: price(139.5), Rate: 9.8,
		Description: "<p>新版</p>", Cover: p.Cover, Detail: p.Detail,
		Specifications: []*warehouse.Specification{
			{Id: p.Specifications[0].Id, Item: "作者", Value: "周志明", ProductId: 1},
			{Item: "页数", Value: "600", ProductId: 1},
		},
	}
	got := must[*warehouse.Product](t)(e.client.UpdateProduct(e.admin, &warehouse.ProductRequest{Product: upd}))
	if got.Id != 1 || got.Title != upd.Title || got.GetPrice() != 139.5 || got.Rate != 9.8 || got.Description != "<p>新版</p>" {
		t.Errorf("updated = %+v", got)
	}
	if len(got.Specifications) != 2 || got.Specifications[0].Id != p.Specifications[0].Id || got.Specifications[1].Id != 71 {
		t.Errorf("specifications after update = %v", got.Specifications)
	}
	wantRows(t, e, map[string]int64{"product": 8, "specification": 70 - 9 + 2})
	// The stock is not part of the product: an update leaves it alone.
	wantStock(t, e, 1, 30, 0)

	upd.Id = 10086
	_, err := e.client.UpdateProduct(e.admin, &warehouse.ProductRequest{Product: upd})
	wantCode(t, err, rpcerr.NotFound, "")
}

func TestDeleteProduct(t *testing.T) {
	e := newEnv(t)
	must[*warehouse.Empty](t)(e.client.DeleteProduct(e.admin, &warehouse.ProductIdRequest{Id: 1}))
	_, err := e.client.GetProduct(e.anon, &warehouse.ProductIdRequest{Id: 1})
	wantCode(t, err, rpcerr.NotFound, "")
	_, err = e.client.GetStockpile(e.admin, &warehouse.StockpileRequest{ProductId: 1})
	wantCode(t, err, rpcerr.NotFound, "1")
	// Its specifications, stockpile and advertisement (id 3) went with it.
	wantRows(t, e, map[string]int64{"product": 7, "specification": 61, "stockpile": 7, "advertisement": 2})
	ads := must[*warehouse.ListAdvertisementsResponse](t)(e.client.ListAdvertisements(e.anon, &warehouse.ListAdvertisementsRequest{}))
	for _, a := range ads.Advertisements {
		if a.ProductId == 1 {
			t.Errorf("advertisement %d of the deleted product remains", a.Id)
		}
	}

	_, err = e.client.DeleteProduct(e.admin, &warehouse.ProductIdRequest{Id: 1})
	wantCode(t, err, rpcerr.NotFound, "No class com.github.fenixsoft.bookstore.domain.warehouse.Product entity with id 1 exists!")
	_, err = e.client.DeleteProduct(e.admin, &warehouse.ProductIdRequest{Id: 10086})
	wantCode(t, err, rpcerr.NotFound, "No class com.github.fenixsoft.bookstore.domain.warehouse.Product entity with id 10086 exists!")
}

func TestGetProductNotFound(t *testing.T) {
	e := newEnv(t)
	for _, id := range []int64{0, -1, 10086} {
		_, err := e.client.GetProduct(e.anon, &warehouse.ProductIdRequest{Id: id})
		wantCode(t, err, rpcerr.NotFound, "")
	}
}

// listed is the catalogue c lists, by id.
func listed(t *testing.T, c warehouseservice.Client) map[int64]*warehouse.Product {
	t.Helper()
	out := map[int64]*warehouse.Product{}
	for _, p := range must[*warehouse.ListProductsResponse](t)(c.ListProducts(context.Background(), &warehouse.ListProductsRequest{})).Products {
		out[p.Id] = p
	}
	return out
}

// TestReadModelSeesWrites checks that every product write is visible to the
// very next read, through both the list and the by-id view: on the replica
// that wrote, and on another one on the same database (as two pods on one
// MySQL), whose copy of the catalogue was warm.
func TestReadModelSeesWrites(t *testing.T) {
	for _, tc := range []struct {
		name  string
		other bool
	}{{"same replica", false}, {"other replica", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			reader := e.client
			if tc.other {
				reader = newClient(t, start(t, e.cfg))
			}
			list := func() map[int64]*warehouse.Product { return listed(t, reader) }
			get := func(id int64) (*warehouse.Product, error) {
				return reader.GetProduct(e.anon, &warehouse.ProductIdRequest{Id: id})
			}
			// Warm the copy first, so that the writes below must make it stale.
			if len(list()) != 8 {
				t.Fatal("want 8 products")
			}
			upd := must[*warehouse.Product](t)(get(2))

			upd.Title = "智慧的疆界（修订版）"
			must[*warehouse.Product](t)(e.client.UpdateProduct(e.admin, &warehouse.ProductRequest{Product: upd}))
			if p := must[*warehouse.Product](t)(get(2)); p.Title != upd.Title {
				t.Errorf("GetProduct after update: title %q", p.Title)
			}
			if p := list()[2]; p.Title != upd.Title {
				t.Errorf("ListProducts after update: title %q", p.Title)
			}

			created := must[*warehouse.Product](t)(e.client.CreateProduct(e.admin, &warehouse.ProductRequest{Product: newProduct()}))
			if _, ok := list()[created.Id]; !ok {
				t.Errorf("ListProducts after create misses %d", created.Id)
			}
			if p, err := get(created.Id); err != nil || p.Title != created.Title {
				t.Errorf("GetProduct after create = %v, %v", p, err)
			}

			must[*warehouse.Empty](t)(e.client.DeleteProduct(e.admin, &warehouse.ProductIdRequest{Id: created.Id}))
			if _, ok := list()[created.Id]; ok {
				t.Errorf("ListProducts after delete still has %d", created.Id)
			}
			_, err := get(created.Id)
			wantCode(t, err, rpcerr.NotFound, "")
		})
	}
}

// TestReadModelConcurrent reads while writing; the race detector watches the
// snapshot, and the last write must win.
func TestReadModelConcurrent(t *testing.T) {
	e := newEnv(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := e.client.ListProducts(e.anon, &warehouse.ListProductsRequest{}); err != nil {
					t.Error(err)
					return
				}
				if _, err := e.client.GetProduct(e.anon, &warehouse.ProductIdRequest{Id: 3}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	p := must[*warehouse.Product](t)(e.client.GetProduct(e.anon, &warehouse.ProductIdRequest{Id: 3}))
	for i := range 10 {
		p.Title = fmt.Sprintf("版本%d", i)
		must[*warehouse.Product](t)(e.client.UpdateProduct(e.admin, &warehouse.ProductRequest{Product: p}))
	}
	close(stop)
	wg.Wait()
	if got := must[*warehouse.Product](t)(e.client.GetProduct(e.anon, &warehouse.ProductIdRequest{Id: 3})); got.Title != "版本9" {
		t.Errorf("title after the writes = %q, want 版本9", got.Title)
	}
}
