package adapters

import (
	"context"
	"errors"
	"testing"

	"example.com/bookstore/account/internal/domain"
	"example.com/bookstore/common/db/dbtest"
)

func newRepo(t *testing.T) *Accounts {
	t.Helper()
	r := NewAccounts(dbtest.Open(t))
	if err := r.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

// wireHash is a bcrypt hash of "wire", made once: hashing per account
// would make these tests slow under -race for nothing they check.
const wireHash = "$2a$10$jcj2wVD10Kvzae8jp2ZlbepdXFa4ApdTlxgQSylgVfMdCM3vALn8O"

// account is a new, not yet stored account with the password "wire".
func account(t *testing.T, username string, tel, email *string) *domain.Account {
	t.Helper()
	return domain.Restore(0, wireHash, domain.Profile{Username: username, Name: "N " + username, Telephone: tel, Email: email})
}

func TestMigrateAndSeedAreIdempotent(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	seeded, err := r.Seed(ctx)
	if err != nil || !seeded {
		t.Fatalf("first Seed = %v, %v; want true", seeded, err)
	}
	if err := r.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	seeded, err = r.Seed(ctx)
	if err != nil || seeded {
		t.Fatalf("second Seed = %v, %v; want false", seeded, err)
	}
	var n int64
	r.db.Model(&accountRow{}).Count(&n)
	if n != 1 {
		t.Fatalf("%d accounts after two seeds, want 1", n)
	}
	a, err := r.ByUsername(ctx, "icyfenix")
	if err != nil {
		t.Fatal(err)
	}
	p := a.Profile()
	if a.ID() != 1 || p.Name != "周志明" || p.Avatar == nil || *p.Avatar != "" || *p.Telephone != "18888888888" ||
		*p.Email != "icyfenix@gmail.com" || *p.Location != "唐家湾港湾大道科技一路3号远光软件股份有限公司" {
		t.Errorf("seed account: id %d %+v", a.ID(), p)
	}
	if !a.VerifyPassword("MFfTW3uNI4eqhwDkG7HP9p2mzEUu/r2") {
		t.Error("seed password does not verify")
	}
	created, err := r.Create(ctx, account(t, "second", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if created.ID() != 2 {
		t.Errorf("first new account got id %d, want 2", created.ID())
	}
}

func TestSeedLeavesANonEmptyTableAlone(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	if _, err := r.Create(ctx, account(t, "first", nil, nil)); err != nil {
		t.Fatal(err)
	}
	if seeded, err := r.Seed(ctx); err != nil || seeded {
		t.Fatalf("Seed = %v, %v on a table with a row; want false", seeded, err)
	}
	if _, err := r.ByUsername(ctx, "icyfenix"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("icyfenix = %v, want ErrNotFound", err)
	}
}

func TestUniqueness(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	if _, err := r.Create(ctx, account(t, "alice", ptr("13800000001"), ptr("alice@example.com"))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		a       *domain.Account
		wantErr error
	}{
		{"same username", account(t, "alice", nil, nil), domain.ErrDuplicateAccount},
		{"same telephone", account(t, "bob", ptr("13800000001"), nil), domain.ErrDuplicateAccount},
		{"same email", account(t, "bob", nil, ptr("alice@example.com")), domain.ErrDuplicateAccount},
		// Like the original, usernames are case-sensitive on every database.
		{"username differing in case", account(t, "Alice", nil, nil), nil},
		{"no telephone nor email", account(t, "carol", nil, nil), nil},
		{"again no telephone nor email", account(t, "dave", ptr(""), ptr("")), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Create(ctx, tc.a)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Create = %v, want %v", err, tc.wantErr)
			}
		})
	}
	if _, err := r.ByUsername(ctx, "ALICE"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("ByUsername is not exact: %v", err)
	}
}

// A writer that got past the check (another one inserted in between) must
// still get the typed error, from the unique index.
func TestUniqueIndexBacksTheCheck(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	if _, err := r.Create(ctx, account(t, "alice", ptr("13800000001"), ptr("a@x.com"))); err != nil {
		t.Fatal(err)
	}
	for _, row := range []accountRow{
		toRow(account(t, "alice", nil, nil)),
		toRow(account(t, "bob", ptr("13800000001"), nil)),
		toRow(account(t, "carol", nil, ptr("a@x.com"))),
	} {
		if err := insert(r.db.WithContext(ctx), &row); !errors.Is(err, domain.ErrDuplicateAccount) {
			t.Errorf("insert %s past the check = %v, want ErrDuplicateAccount", row.Username, err)
		}
	}
	bob, err := r.Create(ctx, account(t, "bob", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	row := toRow(bob)
	row.Username = "alice"
	if err := overwrite(r.db.WithContext(ctx), row); !errors.Is(err, domain.ErrConflictingAccount) {
		t.Errorf("overwrite past the check = %v, want ErrConflictingAccount", err)
	}
}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	alice, err := r.Create(ctx, account(t, "alice", ptr("13800000001"), ptr("alice@example.com")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create(ctx, account(t, "bob", ptr("13800000002"), ptr("bob@example.com"))); err != nil {
		t.Fatal(err)
	}
	replace := func(p domain.Profile) func(*domain.Account) error {
		return func(a *domain.Account) error { return a.Replace(p, domain.Password{}) }
	}

	t.Run("clears absent fields and keeps its own values", func(t *testing.T) {
		got, err := r.Update(ctx, alice.ID(), replace(domain.Profile{Username: "alice", Name: "Alice", Email: ptr("alice@example.com")}))
		if err != nil {
			t.Fatal(err)
		}
		stored, err := r.ByUsername(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []*domain.Account{got, stored} {
			p := a.Profile()
			if p.Name != "Alice" || p.Telephone != nil || *p.Email != "alice@example.com" {
				t.Errorf("after update: %+v", p)
			}
			if !a.VerifyPassword("wire") {
				t.Error("update without password lost the hash")
			}
		}
	})
	for _, tc := range []struct {
		name string
		p    domain.Profile
	}{
		{"another's username", domain.Profile{Username: "bob", Name: "x"}},
		{"another's telephone", domain.Profile{Username: "alice", Name: "x", Telephone: ptr("13800000002")}},
		{"another's email", domain.Profile{Username: "alice", Name: "x", Email: ptr("bob@example.com")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.Update(ctx, alice.ID(), replace(tc.p)); !errors.Is(err, domain.ErrConflictingAccount) {
				t.Fatalf("Update = %v, want ErrConflictingAccount", err)
			}
		})
	}
	t.Run("unknown id", func(t *testing.T) {
		if _, err := r.Update(ctx, 999, replace(domain.Profile{Username: "z", Name: "z"})); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("Update = %v, want ErrNotFound", err)
		}
	})
	t.Run("error from fn rolls back", func(t *testing.T) {
		boom := errors.New("boom")
		if _, err := r.Update(ctx, alice.ID(), func(*domain.Account) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("Update = %v, want boom", err)
		}
	})
}
