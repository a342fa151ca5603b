package e2e

import (
	"net/http"
	"testing"
)

// TestCatalogue covers W1-W7 and W9: anonymous reads, admin writes, stock,
// and the errors around them.
func TestCatalogue(t *testing.T) {
	t.Parallel()
	s := startStack(t, nil)
	a := api{t, s.GatewayURL}
	admin := a.login(adminUser, adminWire)

	// W1: the seeded catalogue.
	var products []map[string]any
	r := a.do("GET", "/restful/products", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET products: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &products)
	if len(products) != 8 {
		t.Fatalf("%d products, want 8", len(products))
	}
	// W2: one product, the contract's fields.
	var p1 map[string]any
	a.do("GET", "/restful/products/1", "", nil).JSON(t, &p1)
	if p1["title"] != "深入理解Java虚拟机（第3版）" || p1["price"] != 129.0 || p1["rate"] != 9.6 ||
		p1["cover"] != "/static/cover/jvm3.jpg" || p1["detail"] != "/static/desc/jvm3.jpg" {
		t.Errorf("product 1 = %v", p1)
	}
	specs, _ := p1["specifications"].([]any)
	if len(specs) != 9 {
		t.Errorf("product 1 has %d specifications, want 9", len(specs))
	}
	for _, sp := range specs {
		m := sp.(map[string]any)
		for _, k := range []string{"id", "item", "value", "productId"} {
			if _, ok := m[k]; !ok {
				t.Errorf("specification %v lacks %q", m, k)
			}
		}
	}
	// W2: unknown product is 204 with no body; a bad id is 400.
	if r := a.do("GET", "/restful/products/10086", "", nil); r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Errorf("unknown product: %d %q", r.Status, r.Body)
	}
	a.expect(a.do("GET", "/restful/products/abc", "", nil), http.StatusBadRequest, "")

	// W9: the three advertisements.
	var ads []map[string]any
	a.do("GET", "/restful/advertisements", "", nil).JSON(t, &ads)
	if len(ads) != 3 || ads[0]["image"] != "/static/carousel/fenix2.png" || ads[0]["productId"] != 8.0 {
		t.Errorf("advertisements = %v", ads)
	}

	// W4: create, as admin only, with validation.
	book := map[string]any{
		"title": "Go 微服务", "price": 59.9, "rate": 8.5, "description": "<p>x</p>",
		"cover": "/static/cover/go.jpg", "detail": "/static/desc/go.jpg",
		"specifications":          []map[string]any{{"item": "作者", "value": "某人"}},
		"extraKeyFromTheFrontend": true,
	}
	a.expect(a.do("POST", "/restful/products", "", book), http.StatusForbidden, "Access is denied")
	a.expect(a.do("POST", "/restful/products", admin, map[string]any{"price": -1}), http.StatusBadRequest, "商品名称不允许为空")
	a.expect(a.do("POST", "/restful/products", admin, `{"title":`), http.StatusBadRequest, "")
	a.expect(a.do("POST", "/restful/products", admin, `{"title":"x","price":"cheap"}`), http.StatusBadRequest, "")
	var created map[string]any
	r = a.do("POST", "/restful/products", admin, book)
	if r.Status != http.StatusOK {
		t.Fatalf("create product: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &created)
	if created["id"] != 9.0 || created["price"] != 59.9 {
		t.Fatalf("created = %v", created)
	}

	// A new product has a stockpile of 0 (contract §14.5), settable by admin.
	var stock map[string]any
	a.do("GET", "/restful/products/stockpile/9", admin, nil).JSON(t, &stock)
	if stock["amount"] != 0.0 || stock["frozen"] != 0.0 {
		t.Errorf("new stockpile = %v", stock)
	}
	a.expect(a.do("GET", "/restful/products/stockpile/9", "", nil), http.StatusForbidden, "Access is denied")
	a.expectOK(a.do("PATCH", "/restful/products/stockpile/9?amount=20", admin, "MUST_BE_PRESENT"))
	a.expect(a.do("PATCH", "/restful/products/stockpile/9?amount=abc", admin, nil), http.StatusBadRequest, "")
	a.do("GET", "/restful/products/stockpile/9", admin, nil).JSON(t, &stock)
	if stock["amount"] != 20.0 {
		t.Errorf("stockpile after PATCH = %v", stock)
	}

	// W3: update replaces fields and specifications; the next read sees it.
	created["title"] = "Go 微服务（第2版）"
	created["specifications"] = []map[string]any{{"item": "出版社", "value": "某出版社", "productId": 9}}
	a.expectOK(a.do("PUT", "/restful/products", admin, created))
	var updated map[string]any
	a.do("GET", "/restful/products/9", "", nil).JSON(t, &updated)
	if updated["title"] != "Go 微服务（第2版）" || len(updated["specifications"].([]any)) != 1 {
		t.Errorf("after update = %v", updated)
	}

	// W5: delete; the product is gone.
	a.expect(a.do("DELETE", "/restful/products/9", "", nil), http.StatusForbidden, "Access is denied")
	a.expectOK(a.do("DELETE", "/restful/products/9", admin, nil))
	if r := a.do("GET", "/restful/products/9", "", nil); r.Status != http.StatusNoContent {
		t.Errorf("deleted product: %d", r.Status)
	}

	// An invalid token is refused even on a public endpoint (contract §2.4).
	r = a.do("GET", "/restful/products", "not.a.token", nil)
	if r.Status != http.StatusUnauthorized || r.Map(t)["error"] != "invalid_token" {
		t.Errorf("bad token: %d %s", r.Status, r.Body)
	}
}
