package domain

import (
	"errors"
	"strings"
	"testing"
)

func ptr(s string) *string { return &s }

func valid() Profile {
	return Profile{
		Username:  "alice",
		Name:      "Alice",
		Telephone: ptr("13800138000"),
		Email:     ptr("alice@example.com"),
	}
}

func TestProfileRules(t *testing.T) {
	long := func(n int) string { return strings.Repeat("字", n) }
	tests := []struct {
		name   string
		edit   func(*Profile)
		expect []string // nil: valid
	}{
		{"valid", func(*Profile) {}, nil},
		{"optional fields absent", func(p *Profile) { p.Telephone, p.Email = nil, nil }, nil},
		{"empty telephone and email are absent", func(p *Profile) { p.Telephone, p.Email = ptr(""), ptr("") }, nil},
		{"username required", func(p *Profile) { p.Username = "" }, []string{MsgUsernameRequired}},
		{"name required", func(p *Profile) { p.Name = "" }, []string{MsgNameRequired}},
		{"telephone too short", func(p *Profile) { p.Telephone = ptr("1380013800") }, []string{MsgBadTelephone}},
		{"telephone too long", func(p *Profile) { p.Telephone = ptr("138001380001") }, []string{MsgBadTelephone}},
		{"telephone must start with 1", func(p *Profile) { p.Telephone = ptr("23800138000") }, []string{MsgBadTelephone}},
		{"telephone digits only", func(p *Profile) { p.Telephone = ptr("1380013800a") }, []string{MsgBadTelephone}},
		{"telephone no surrounding space", func(p *Profile) { p.Telephone = ptr(" 13800138000") }, []string{MsgBadTelephone}},
		{"telephone no full-width digits", func(p *Profile) { p.Telephone = ptr("1３８00138000") }, []string{MsgBadTelephone}},
		{"email without @", func(p *Profile) { p.Email = ptr("alice.example.com") }, []string{MsgBadEmail}},
		{"email without domain", func(p *Profile) { p.Email = ptr("alice@") }, []string{MsgBadEmail}},
		{"email without local part", func(p *Profile) { p.Email = ptr("@example.com") }, []string{MsgBadEmail}},
		{"email with space", func(p *Profile) { p.Email = ptr("al ice@example.com") }, []string{MsgBadEmail}},
		{"email with empty label", func(p *Profile) { p.Email = ptr("alice@example..com") }, []string{MsgBadEmail}},
		{"username too long", func(p *Profile) { p.Username = long(MaxUsernameLength + 1) }, []string{MsgUsernameTooLong}},
		{"username at the limit", func(p *Profile) { p.Username = long(MaxUsernameLength) }, nil},
		{"name too long", func(p *Profile) { p.Name = long(MaxNameLength + 1) }, []string{MsgNameTooLong}},
		{"avatar too long", func(p *Profile) { p.Avatar = ptr(long(MaxAvatarLength + 1)) }, []string{MsgAvatarTooLong}},
		{"location too long", func(p *Profile) { p.Location = ptr(long(MaxLocationLength + 1)) }, []string{MsgLocationTooLong}},
		{"email too long", func(p *Profile) { p.Email = ptr(strings.Repeat("a", 60) + "@" + strings.Repeat("b", 40) + ".com") }, []string{MsgEmailTooLong}},
		{"all four contract rules, in field order", func(p *Profile) {
			p.Username, p.Name, p.Telephone, p.Email = "", "", ptr("123"), ptr("nope")
		}, []string{MsgUsernameRequired, MsgNameRequired, MsgBadTelephone, MsgBadEmail}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := valid()
			tc.edit(&p)
			err := ValidateProfile(p)
			if tc.expect == nil {
				if err != nil {
					t.Fatalf("ValidateProfile: %v, want nil", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("ValidateProfile: %v, want *ValidationError", err)
			}
			want := strings.Join(tc.expect, "；")
			if err.Error() != want {
				t.Errorf("message %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestValidEmail(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"icyfenix@gmail.com", true},
		{"a@b", true}, // Hibernate's @Email needs no dot in the domain
		{"first.last+tag@sub.example.co", true},
		{"user@[127.0.0.1]", true},
		{`"quoted local"@example.com`, true},
		{"用户@例子.中国", true},
		{"UPPER@EXAMPLE.COM", true},
		{"", false},
		{"plain", false},
		{"a@", false},
		{"@b", false},
		{"a@@b", false},
		{"a..b@c", false},
		{".a@c", false},
		{"a.@c", false},
		{"a@-b.com", false},
		{"a@b-.com", false},
		{"a@b.com.", false},
		{"a b@c", false},
		{"a@b c", false},
		{"a@(b)", false},
		{strings.Repeat("a", 65) + "@b.com", false},
	}
	for _, tc := range tests {
		if got := ValidEmail(tc.in); got != tc.want {
			t.Errorf("ValidEmail(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestNewAccountNormalizesEmptyContacts(t *testing.T) {
	p := valid()
	p.Telephone, p.Email = ptr(""), ptr("")
	a, err := NewAccount(p, Password{hash: oldWireHash})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Profile(); got.Telephone != nil || got.Email != nil {
		t.Errorf("telephone %v, email %v: want both nil (stored as NULL)", got.Telephone, got.Email)
	}
}

func TestNewAccountRejectsInvalidProfile(t *testing.T) {
	p := valid()
	p.Name = ""
	a, err := NewAccount(p, Password{hash: oldWireHash})
	var ve *ValidationError
	if !errors.As(err, &ve) || a != nil {
		t.Fatalf("NewAccount = %v, %v; want nil, *ValidationError", a, err)
	}
}

func TestCheckUpdate(t *testing.T) {
	bad := valid()
	bad.Name, bad.Email = "", ptr("x")
	tests := []struct {
		name     string
		p        Profile
		target   int64
		caller   int64
		expected string // "" valid
	}{
		{"owner", valid(), 7, 7, ""},
		{"another account", valid(), 7, 8, MsgNotCurrentUser},
		{"anonymous", valid(), 7, 0, MsgNotCurrentUser},
		{"anonymous without id", valid(), 0, 0, MsgNotCurrentUser},
		{"field errors and owner together", bad, 7, 8, MsgNameRequired + "；" + MsgBadEmail + "；" + MsgNotCurrentUser},
		{"field errors of the owner", bad, 7, 7, MsgNameRequired + "；" + MsgBadEmail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckUpdate(tc.p, tc.target, tc.caller)
			if tc.expected == "" {
				if err != nil {
					t.Fatalf("CheckUpdate: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || err.Error() != tc.expected {
				t.Fatalf("CheckUpdate = %v, want ValidationError %q", err, tc.expected)
			}
		})
	}
}

// Hashes made once, at PasswordCost: bcrypt is slow under -race.
const (
	oldWireHash = "$2a$10$QltRI861OM32omCB/SjbR.4LkA9jokLe.vFUQc3jxg2xr4gUpnIfa" // "old-wire"
	emptyHash   = "$2a$10$LfiOyUX8iJJFsRF3jv9eeOWJzE1rxHrNbNTnxHFqrNa1cdVWsUHPa" // ""
)

func TestReplace(t *testing.T) {
	old := Password{hash: oldWireHash}
	tests := []struct {
		name      string
		wire      string
		oldWorks  bool
		newWorks  bool
		newAvatar *string
	}{
		{"empty password keeps the hash", "", true, false, nil},
		{"new password replaces the hash", "new-wire", false, true, ptr("http://a/b.png")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := valid()
			p.Avatar = ptr("x")
			a := Restore(3, old.hash, p)
			pw, err := PasswordChange(tc.wire)
			if err != nil {
				t.Fatal(err)
			}
			q := valid()
			q.Username, q.Email, q.Avatar = "bob", nil, tc.newAvatar
			if err := a.Replace(q, pw); err != nil {
				t.Fatal(err)
			}
			if a.VerifyPassword("old-wire") != tc.oldWorks {
				t.Errorf("old password works = %v, want %v", !tc.oldWorks, tc.oldWorks)
			}
			if tc.wire != "" && a.VerifyPassword(tc.wire) != tc.newWorks {
				t.Errorf("new password works = %v, want %v", !tc.newWorks, tc.newWorks)
			}
			got := a.Profile()
			if a.ID() != 3 || got.Username != "bob" || got.Email != nil {
				t.Errorf("after Replace: id %d, %+v", a.ID(), got)
			}
			// Every field is replaced, absent ones too (the original's save).
			if (got.Avatar == nil) != (tc.newAvatar == nil) {
				t.Errorf("avatar %v, want %v", got.Avatar, tc.newAvatar)
			}
		})
	}

	t.Run("invalid profile changes nothing", func(t *testing.T) {
		a := Restore(3, old.hash, valid())
		q := valid()
		q.Telephone = ptr("12")
		err := a.Replace(q, Password{hash: emptyHash})
		if err == nil || err.Error() != MsgBadTelephone {
			t.Fatalf("Replace = %v, want %q", err, MsgBadTelephone)
		}
		if !a.VerifyPassword("old-wire") || *a.Profile().Telephone != "13800138000" {
			t.Error("a failed Replace changed the account")
		}
	})
}

func TestVerifyPassword(t *testing.T) {
	seed := Restore(1, "$2a$10$iIim4LtpT2yjxU2YVNDuO.yb1Z2lq86vYBZleAeuIh2aFXjyoMCM.", valid())
	blank := Restore(2, emptyHash, valid())
	tests := []struct {
		name string
		a    *Account
		wire string
		want bool
	}{
		{"seed hash with the browser's form of 123456", seed, "MFfTW3uNI4eqhwDkG7HP9p2mzEUu/r2", true},
		{"the empty string's hash with the empty string", blank, "", false},
		{"seed hash with plain 123456", seed, "123456", false},
		{"seed hash with a wrong case", seed, "mFfTW3uNI4eqhwDkG7HP9p2mzEUu/r2", false},
		{"empty password against a real hash", seed, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.a.VerifyPassword(tc.wire); got != tc.want {
				t.Errorf("VerifyPassword(%q) = %v, want %v", tc.wire, got, tc.want)
			}
		})
	}
}

func TestPasswordChange(t *testing.T) {
	pw, err := PasswordChange("")
	if err != nil || !pw.IsZero() {
		t.Fatalf("PasswordChange(\"\") = %v, %v; want zero", pw, err)
	}
	pw, err = PasswordChange("wire")
	if err != nil || pw.IsZero() || !strings.HasPrefix(pw.hash, "$2a$10$") {
		t.Fatalf("PasswordChange(wire) = %q, %v; want a cost-10 bcrypt hash", pw.hash, err)
	}
	if pw.hash == "wire" {
		t.Fatal("password stored in clear")
	}
}

func TestDummyHashIsValid(t *testing.T) {
	// A malformed dummy would make unknown users answer faster than wrong
	// passwords, which is what it is there to prevent.
	if passwordMatches(dummyHash, "no such account") != true {
		t.Fatal("dummyHash is not a bcrypt hash of its documented input")
	}
}

func TestNormalizeLoginName(t *testing.T) {
	if got := NormalizeLoginName("IcyFenix"); got != "icyfenix" {
		t.Errorf("NormalizeLoginName = %q", got)
	}
}
