package e2e

import (
	"net/http"
	"testing"
)

// TestAccounts covers A1-A3: registration with its rules, reading, and
// owner-only updates.
func TestAccounts(t *testing.T) {
	t.Parallel()
	s := startStack(t, nil)
	a := api{t, s.GatewayURL}
	admin := a.login(adminUser, adminWire)

	// A1: the seeded account, without its password hash.
	var acc map[string]any
	r := a.do("GET", "/restful/accounts/icyfenix", admin, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET account: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &acc)
	if acc["id"] != 1.0 || acc["name"] != "周志明" || acc["telephone"] != "18888888888" || acc["email"] != "icyfenix@gmail.com" {
		t.Errorf("account = %v", acc)
	}
	if _, leaked := acc["password"]; leaked {
		t.Errorf("the password hash left the service: %v", acc)
	}
	a.expect(a.do("GET", "/restful/accounts/icyfenix", "", nil), http.StatusForbidden, "Access is denied")
	if r := a.do("GET", "/restful/accounts/nobody", admin, nil); r.Status != http.StatusNoContent {
		t.Errorf("unknown account: %d %s", r.Status, r.Body)
	}

	// A2: registration, as the frontend sends it.
	alice := map[string]any{
		"username": "alice", "password": "alice-wire-password", "name": "Alice",
		"email": "alice@example.com", "telephone": "13800000001", "avatar": "", "unknownKey": 1,
	}
	a.expectOK(a.do("POST", "/restful/accounts", "", alice))
	for name, body := range map[string]map[string]any{
		"same username":  {"username": "alice", "name": "A2", "email": "a2@example.com", "telephone": "13800000002"},
		"same email":     {"username": "alice2", "name": "A2", "email": "alice@example.com", "telephone": "13800000002"},
		"same telephone": {"username": "alice2", "name": "A2", "email": "a2@example.com", "telephone": "13800000001"},
	} {
		body["password"] = "x"
		t.Run(name, func(t *testing.T) {
			api{t, s.GatewayURL}.expect(a.do("POST", "/restful/accounts", "", body), http.StatusBadRequest, "用户名称、邮箱、手机号码均不允许与现存用户重复")
		})
	}
	a.expect(a.do("POST", "/restful/accounts", "", map[string]any{"username": "bob", "name": "Bob", "telephone": "123"}), http.StatusBadRequest, "手机号格式不正确")
	a.expect(a.do("POST", "/restful/accounts", "", map[string]any{"username": "bob", "name": "Bob", "email": "not-an-email"}), http.StatusBadRequest, "邮箱格式不正确")
	a.expect(a.do("POST", "/restful/accounts", "", map[string]any{"name": "Bob"}), http.StatusBadRequest, "用户不允许为空")
	a.expect(a.do("POST", "/restful/accounts", "", "{not json"), http.StatusBadRequest, "")

	// The new user logs in (as the frontend does after registering) and reads itself.
	tok := a.login("alice", "alice-wire-password")
	var me map[string]any
	a.do("GET", "/restful/accounts/alice", tok, nil).JSON(t, &me)
	if me["id"] != 2.0 || me["name"] != "Alice" {
		t.Fatalf("alice = %v", me)
	}

	// A3: owner-only update; the stored password survives an update without one.
	me["name"] = "Alice Liddell"
	me["location"] = "Wonderland"
	a.expectOK(a.do("PUT", "/restful/accounts", tok, me))
	a.do("GET", "/restful/accounts/alice", tok, nil).JSON(t, &me)
	if me["name"] != "Alice Liddell" || me["location"] != "Wonderland" {
		t.Errorf("after update: %v", me)
	}
	a.login("alice", "alice-wire-password")

	a.expect(a.do("PUT", "/restful/accounts", tok, acc), http.StatusBadRequest, "不是当前登陆用户")
	a.expect(a.do("PUT", "/restful/accounts", "", me), http.StatusBadRequest, "不是当前登陆用户")
	me["email"] = "icyfenix@gmail.com"
	a.expect(a.do("PUT", "/restful/accounts", tok, me), http.StatusBadRequest, "用户名称、邮箱、手机号码与现存用户产生重复")

	// Alice is no administrator.
	a.expect(a.do("POST", "/restful/products", tok, map[string]any{"title": "x", "price": 1}), http.StatusForbidden, "Access is denied")
	a.expect(a.do("GET", "/restful/products/stockpile/1", tok, nil), http.StatusForbidden, "Access is denied")
}
