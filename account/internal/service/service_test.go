package service

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/db"
	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/idl/kitex_gen/account"
)

const (
	msgDuplicate = "用户名称、邮箱、手机号码均不允许与现存用户重复"
	msgConflict  = "用户名称、邮箱、手机号码与现存用户产生重复"
)

func alice() *account.AccountInput {
	return &account.AccountInput{
		Username: s("alice"), Password: s("alice-wire"), Name: s("Alice"),
		Telephone: s("13800000001"), Email: s("alice@example.com"), Location: s("Zhuhai"),
	}
}

func TestCreateAndGet(t *testing.T) {
	e := startEnv(t)
	created := e.register(alice())
	if created.Id != 2 {
		t.Errorf("first registered account has id %d, want 2 (after the seed)", created.Id)
	}
	if created.Username != "alice" || created.GetName() != "Alice" || created.GetEmail() != "alice@example.com" ||
		created.GetTelephone() != "13800000001" || created.GetLocation() != "Zhuhai" || created.Avatar != nil {
		t.Errorf("created account: %s", js(created))
	}

	for _, tok := range []struct{ name, token string }{
		{"browser user", userToken(t, created.Id, "alice")},
		{"service", serviceToken(t)},
	} {
		t.Run("get as "+tok.name, func(t *testing.T) {
			got, err := e.client.GetAccount(as(tok.token), &account.GetAccountRequest{Username: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			if js(got) != js(created) {
				t.Errorf("GetAccount = %s, want %s", js(got), js(created))
			}
		})
	}

	t.Run("seed user", func(t *testing.T) {
		got, err := e.client.GetAccount(as(serviceToken(t)), &account.GetAccountRequest{Username: "icyfenix"})
		if err != nil {
			t.Fatal(err)
		}
		want := &account.Account{Id: 1, Username: "icyfenix", Name: s("周志明"), Avatar: s(""),
			Telephone: s("18888888888"), Email: s("icyfenix@gmail.com"), Location: s("唐家湾港湾大道科技一路3号远光软件股份有限公司")}
		if js(got) != js(want) {
			t.Errorf("GetAccount(icyfenix) = %s, want %s", js(got), js(want))
		}
	})
	t.Run("unknown", func(t *testing.T) {
		_, err := e.client.GetAccount(as(serviceToken(t)), &account.GetAccountRequest{Username: "nobody"})
		wantCode(t, err, rpcerr.NotFound, "")
	})
	t.Run("lookup is exact", func(t *testing.T) {
		_, err := e.client.GetAccount(as(serviceToken(t)), &account.GetAccountRequest{Username: "ALICE"})
		wantCode(t, err, rpcerr.NotFound, "")
	})
	t.Run("anonymous", func(t *testing.T) {
		_, err := e.client.GetAccount(context.Background(), &account.GetAccountRequest{Username: "alice"})
		wantCode(t, err, rpcerr.PermissionDenied, "Access is denied")
	})
	t.Run("token without the scope", func(t *testing.T) {
		tok := sign(t, auth.Claims{Scope: []string{"OTHER"}, ClientID: "x"})
		_, err := e.client.GetAccount(as(tok), &account.GetAccountRequest{Username: "alice"})
		wantCode(t, err, rpcerr.PermissionDenied, "Access is denied")
	})
}

func TestBadTokens(t *testing.T) {
	e := startEnv(t)
	expired := sign(t, auth.Claims{Scope: []string{auth.ScopeService}, ClientID: "gateway", Exp: time.Now().Add(-time.Minute).Unix()})
	otherKey, err := auth.NewKeys("another-key-of-sufficient-length").Sign(auth.Claims{
		Scope: []string{auth.ScopeService}, Exp: time.Now().Add(time.Hour).Unix(), JTI: "x", ClientID: "gateway"})
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"expired": expired, "garbage": "not-a-jwt", "foreign key": otherKey} {
		t.Run(name, func(t *testing.T) {
			_, err := e.client.GetAccount(as(tok), &account.GetAccountRequest{Username: "icyfenix"})
			wantCode(t, err, rpcerr.Unauthenticated, "")
			// Even an anonymous operation is refused with a bad token.
			_, err = e.client.CreateAccount(as(tok), alice())
			wantCode(t, err, rpcerr.Unauthenticated, "")
		})
	}
}

func TestCreateRejects(t *testing.T) {
	e := startEnv(t)
	e.register(alice())
	tests := []struct {
		name string
		edit func(*account.AccountInput)
		code rpcerr.Code
		msg  string
	}{
		{"duplicate username", func(in *account.AccountInput) { in.Telephone, in.Email = nil, nil }, rpcerr.Conflict, msgDuplicate},
		{"duplicate telephone", func(in *account.AccountInput) { in.Username, in.Email = s("bob"), nil }, rpcerr.Conflict, msgDuplicate},
		{"duplicate email", func(in *account.AccountInput) { in.Username, in.Telephone = s("bob"), nil }, rpcerr.Conflict, msgDuplicate},
		{"duplicate of the seed user", func(in *account.AccountInput) {
			in.Username, in.Telephone, in.Email = s("bob"), s("18888888888"), nil
		}, rpcerr.Conflict, msgDuplicate},
		{"username missing", func(in *account.AccountInput) { in.Username = nil }, rpcerr.InvalidArgument, "用户不允许为空"},
		{"username empty", func(in *account.AccountInput) { in.Username = s("") }, rpcerr.InvalidArgument, "用户不允许为空"},
		{"name missing", func(in *account.AccountInput) { in.Username, in.Name = s("bob"), nil }, rpcerr.InvalidArgument, "用户姓名不允许为空"},
		{"bad telephone", func(in *account.AccountInput) { in.Username, in.Telephone = s("bob"), s("12345") }, rpcerr.InvalidArgument, "手机号格式不正确"},
		{"bad email", func(in *account.AccountInput) { in.Username, in.Email = s("bob"), s("bob-at-example") }, rpcerr.InvalidArgument, "邮箱格式不正确"},
		{"every rule at once", func(in *account.AccountInput) {
			in.Username, in.Name, in.Telephone, in.Email = s(""), s(""), s("2"), s("@")
		}, rpcerr.InvalidArgument, "用户不允许为空；用户姓名不允许为空；手机号格式不正确；邮箱格式不正确"},
		// Validation comes first: an invalid duplicate reports the field.
		{"invalid and duplicate", func(in *account.AccountInput) { in.Telephone = s("1") }, rpcerr.InvalidArgument, "手机号格式不正确"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := alice()
			tc.edit(in)
			_, err := e.client.CreateAccount(context.Background(), in)
			wantCode(t, err, tc.code, tc.msg)
		})
	}
	t.Run("nil input", func(t *testing.T) {
		_, err := e.client.CreateAccount(context.Background(), nil)
		wantCode(t, err, rpcerr.InvalidArgument, "用户不允许为空；用户姓名不允许为空")
	})
	t.Run("accounts without telephone or email do not clash", func(t *testing.T) {
		e.register(&account.AccountInput{Username: s("carol"), Password: s("w"), Name: s("Carol")})
		e.register(&account.AccountInput{Username: s("dave"), Password: s("w"), Name: s("Dave"), Telephone: s(""), Email: s("")})
	})
}

func verify(e *env, username, wire string) (*account.Principal, error) {
	return e.client.VerifyCredentials(as(serviceToken(e.t)), &account.VerifyCredentialsRequest{Username: username, Password: wire})
}

func TestVerifyCredentials(t *testing.T) {
	e := startEnv(t)
	bob := e.register(&account.AccountInput{Username: s("bob"), Password: s("bob-wire"), Name: s("Bob")})
	e.register(&account.AccountInput{Username: s("nopass"), Name: s("No Password")})

	ok := []struct {
		name, username, wire string
		want                 *account.Principal
	}{
		{"seed admin", "icyfenix", seedWire, &account.Principal{AccountId: 1, Username: "icyfenix", Roles: []string{auth.RoleUser, auth.RoleAdmin}}},
		{"username is lowercased", "IcyFenix", seedWire, &account.Principal{AccountId: 1, Username: "icyfenix", Roles: []string{auth.RoleUser, auth.RoleAdmin}}},
		{"registered user", "bob", "bob-wire", &account.Principal{AccountId: bob.Id, Username: "bob", Roles: []string{auth.RoleUser}}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			got, err := verify(e, tc.username, tc.wire)
			if err != nil {
				t.Fatal(err)
			}
			if js(got) != js(tc.want) {
				t.Errorf("VerifyCredentials = %s, want %s", js(got), js(tc.want))
			}
		})
	}
	bad := []struct{ name, username, wire string }{
		{"wrong password", "icyfenix", "123456"},
		{"unknown user", "nobody", seedWire},
		{"empty password of a user registered without one", "nopass", ""},
		{"empty password", "icyfenix", ""},
		{"empty username", "", ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verify(e, tc.username, tc.wire)
			wantCode(t, err, rpcerr.Unauthenticated, "Bad credentials")
		})
	}
	for name, tok := range map[string]string{"anonymous": "", "browser user": userToken(t, 1, "icyfenix")} {
		t.Run("refused to "+name, func(t *testing.T) {
			_, err := e.client.VerifyCredentials(as(tok), &account.VerifyCredentialsRequest{Username: "icyfenix", Password: seedWire})
			wantCode(t, err, rpcerr.PermissionDenied, "Access is denied")
		})
	}
}

func TestUpdate(t *testing.T) {
	e := startEnv(t)
	a := e.register(alice())
	e.register(&account.AccountInput{Username: s("bob"), Password: s("bob-wire"), Name: s("Bob"),
		Telephone: s("13800000002"), Email: s("bob@example.com")})
	aliceTok := userToken(t, a.Id, "alice")

	update := func(tok string, edit func(*account.AccountInput)) (*account.Account, error) {
		in := alice()
		in.Id, in.Password = i(a.Id), nil
		edit(in)
		return e.client.UpdateAccount(as(tok), in)
	}

	t.Run("own account, password kept when absent", func(t *testing.T) {
		got, err := update(aliceTok, func(in *account.AccountInput) {
			in.Name, in.Avatar, in.Location = s("Alice Liddell"), s("https://gravatar.example/a.png"), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetName() != "Alice Liddell" || got.GetAvatar() != "https://gravatar.example/a.png" || got.Location != nil {
			t.Errorf("updated account: %s", js(got))
		}
		stored, err := e.client.GetAccount(as(aliceTok), &account.GetAccountRequest{Username: "alice"})
		if err != nil || js(stored) != js(got) {
			t.Errorf("stored %s, %v; want %s", js(stored), err, js(got))
		}
		if _, err := verify(e, "alice", "alice-wire"); err != nil {
			t.Errorf("old password after update without one: %v", err)
		}
	})
	t.Run("empty password keeps it too", func(t *testing.T) {
		if _, err := update(aliceTok, func(in *account.AccountInput) { in.Password = s("") }); err != nil {
			t.Fatal(err)
		}
		if _, err := verify(e, "alice", "alice-wire"); err != nil {
			t.Errorf("old password after update with an empty one: %v", err)
		}
	})
	t.Run("new password", func(t *testing.T) {
		if _, err := update(aliceTok, func(in *account.AccountInput) { in.Password = s("alice-new-wire") }); err != nil {
			t.Fatal(err)
		}
		if _, err := verify(e, "alice", "alice-new-wire"); err != nil {
			t.Errorf("new password: %v", err)
		}
		_, err := verify(e, "alice", "alice-wire")
		wantCode(t, err, rpcerr.Unauthenticated, "Bad credentials")
	})
	t.Run("token naming the user only", func(t *testing.T) {
		if _, err := update(legacyUserToken(t, "alice"), func(in *account.AccountInput) { in.Name = s("Alice L.") }); err != nil {
			t.Fatal(err)
		}
	})

	rejects := []struct {
		name  string
		token string
		edit  func(*account.AccountInput)
		code  rpcerr.Code
		msg   string
	}{
		{"someone else's account", userToken(t, 1, "icyfenix"), func(*account.AccountInput) {}, rpcerr.InvalidArgument, "不是当前登陆用户"},
		{"no id", aliceTok, func(in *account.AccountInput) { in.Id = nil }, rpcerr.InvalidArgument, "不是当前登陆用户"},
		{"anonymous", "", func(*account.AccountInput) {}, rpcerr.InvalidArgument, "不是当前登陆用户"},
		{"service token", serviceToken(t), func(*account.AccountInput) {}, rpcerr.InvalidArgument, "不是当前登陆用户"},
		{"anonymous with bad fields: every message", "", func(in *account.AccountInput) { in.Name, in.Email = nil, s("x") },
			rpcerr.InvalidArgument, "用户姓名不允许为空；邮箱格式不正确；不是当前登陆用户"},
		{"own account with a bad telephone", aliceTok, func(in *account.AccountInput) { in.Telephone = s("999") }, rpcerr.InvalidArgument, "手机号格式不正确"},
		{"user token without BROWSER scope", sign(t, auth.Claims{UserName: "alice", AccountID: a.Id, Scope: []string{auth.ScopeService}, ClientID: "x"}),
			func(*account.AccountInput) {}, rpcerr.PermissionDenied, "Access is denied"},
		{"another's username", aliceTok, func(in *account.AccountInput) { in.Username = s("bob") }, rpcerr.Conflict, msgConflict},
		{"another's telephone", aliceTok, func(in *account.AccountInput) { in.Telephone = s("13800000002") }, rpcerr.Conflict, msgConflict},
		{"another's email", aliceTok, func(in *account.AccountInput) { in.Email = s("bob@example.com") }, rpcerr.Conflict, msgConflict},
	}
	for _, tc := range rejects {
		t.Run(tc.name, func(t *testing.T) {
			_, err := update(tc.token, tc.edit)
			wantCode(t, err, tc.code, tc.msg)
		})
	}
	t.Run("rejected updates changed nothing", func(t *testing.T) {
		got, err := e.client.GetAccount(as(aliceTok), &account.GetAccountRequest{Username: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetName() != "Alice L." || got.GetTelephone() != "13800000001" || got.GetEmail() != "alice@example.com" {
			t.Errorf("after rejected updates: %s", js(got))
		}
	})
}

func TestSeedSurvivesRestart(t *testing.T) {
	e := startEnv(t)
	first := e.register(&account.AccountInput{Username: s("bob"), Password: s("w"), Name: s("Bob")})
	if err := e.stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	e.start()
	got, err := e.client.GetAccount(as(serviceToken(t)), &account.GetAccountRequest{Username: "icyfenix"})
	if err != nil || got.Id != 1 {
		t.Fatalf("seed after restart: %v, %v", got, err)
	}
	if _, err := verify(e, "icyfenix", seedWire); err != nil {
		t.Fatalf("seed password after restart: %v", err)
	}
	second := e.register(&account.AccountInput{Username: s("carol"), Password: s("w"), Name: s("Carol")})
	if first.Id != 2 || second.Id != 3 {
		t.Errorf("ids %d, %d; want 2, 3", first.Id, second.Id)
	}
	gdb, err := db.Open(context.Background(), e.dbc)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(gdb)
	var names []string
	if err := gdb.Table("account").Order("id").Pluck("username", &names).Error; err != nil {
		t.Fatal(err)
	}
	if want := []string{"icyfenix", "bob", "carol"}; !slices.Equal(names, want) {
		t.Errorf("accounts %v, want %v", names, want)
	}
}

func TestConcurrentCreateSameUsername(t *testing.T) {
	e := startEnv(t)
	const n = 20
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		succeeded int
		conflicts int
		others    []error
	)
	for k := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.client.CreateAccount(context.Background(), &account.AccountInput{
				Username: s("racer"), Password: s("w"), Name: s("Racer"),
				Telephone: s(fmt.Sprintf("139%08d", k)), Email: s(fmt.Sprintf("racer%d@example.com", k)),
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				succeeded++
			case rpcerr.Is(err, rpcerr.Conflict):
				conflicts++
			default:
				others = append(others, err)
			}
		}()
	}
	wg.Wait()
	if succeeded != 1 || conflicts != n-1 || len(others) > 0 {
		t.Fatalf("%d succeeded, %d conflicts, other errors %v; want 1, %d, none", succeeded, conflicts, others, n-1)
	}
}

func TestAdminEndpoints(t *testing.T) {
	e := startEnv(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if code := httpGet(t, e.run.AdminAddr().String(), path); code != 200 {
			t.Errorf("GET %s = %d, want 200", path, code)
		}
	}
}
