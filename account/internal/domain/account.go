// Package domain holds the account entity, the rules that keep it valid and
// the repository it is stored in. It knows nothing of gorm or Kitex.
package domain

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Messages of the contract (§4.1). They reach the end user verbatim.
const (
	MsgUsernameRequired = "用户不允许为空"
	MsgNameRequired     = "用户姓名不允许为空"
	MsgBadTelephone     = "手机号格式不正确"
	MsgBadEmail         = "邮箱格式不正确"
	MsgNotCurrentUser   = "不是当前登陆用户"
)

// Column sizes, in characters. The original has no messages for these (an
// over-long value failed in the database with a 500); ours are 400s.
const (
	MaxUsernameLength = 50
	MaxNameLength     = 50
	MaxAvatarLength   = 255
	MaxEmailLength    = 100
	MaxLocationLength = 100
)

// Messages for over-long fields (our addition to the contract).
var (
	MsgUsernameTooLong = fmt.Sprintf("用户名称不能超过%d个字符", MaxUsernameLength)
	MsgNameTooLong     = fmt.Sprintf("用户姓名不能超过%d个字符", MaxNameLength)
	MsgAvatarTooLong   = fmt.Sprintf("头像地址不能超过%d个字符", MaxAvatarLength)
	MsgEmailTooLong    = fmt.Sprintf("邮箱不能超过%d个字符", MaxEmailLength)
	MsgLocationTooLong = fmt.Sprintf("地址不能超过%d个字符", MaxLocationLength)
)

// ViolationSeparator joins several violation messages, as the original's
// ViolationExceptionMapper does (U+FF1B FULLWIDTH SEMICOLON).
const ViolationSeparator = "；"

// Profile is what a user may set on an account: everything but the id and
// the password. Optional fields are nil when absent.
type Profile struct {
	Username  string
	Name      string
	Avatar    *string
	Telephone *string
	Email     *string
	Location  *string
}

// normalized returns p with an empty telephone or email turned into an
// absent one, so that the unique indexes (which allow many NULLs) do not
// make every user without a telephone clash with the first one.
func (p Profile) normalized() Profile {
	if p.Telephone != nil && *p.Telephone == "" {
		p.Telephone = nil
	}
	if p.Email != nil && *p.Email == "" {
		p.Email = nil
	}
	return p
}

func tooLong(s string, max int) bool { return utf8.RuneCountInString(s) > max }

var telephonePattern = regexp.MustCompile(`^1\d{10}$`)

// violations lists the field rules p breaks, in field order so that the
// joined message is the same on every call.
func (p Profile) violations() []string {
	p = p.normalized()
	var v []string
	switch {
	case p.Username == "":
		v = append(v, MsgUsernameRequired)
	case tooLong(p.Username, MaxUsernameLength):
		v = append(v, MsgUsernameTooLong)
	}
	switch {
	case p.Name == "":
		v = append(v, MsgNameRequired)
	case tooLong(p.Name, MaxNameLength):
		v = append(v, MsgNameTooLong)
	}
	if p.Telephone != nil && !telephonePattern.MatchString(*p.Telephone) {
		v = append(v, MsgBadTelephone)
	}
	switch {
	case p.Email == nil:
	case !ValidEmail(*p.Email):
		v = append(v, MsgBadEmail)
	case tooLong(*p.Email, MaxEmailLength):
		v = append(v, MsgEmailTooLong)
	}
	if p.Avatar != nil && tooLong(*p.Avatar, MaxAvatarLength) {
		v = append(v, MsgAvatarTooLong)
	}
	if p.Location != nil && tooLong(*p.Location, MaxLocationLength) {
		v = append(v, MsgLocationTooLong)
	}
	return v
}

// Account is a registered user. Its fields are unexported so that an
// Account can only be made valid (NewAccount, Restore) and changed through
// methods that keep it so.
type Account struct {
	id           int64
	passwordHash string
	profile      Profile
}

// NewAccount validates a registration. The original hashes an absent
// password as the empty string; VerifyPassword never accepts that one, so
// such an account exists but cannot log in.
func NewAccount(p Profile, pw Password) (*Account, error) {
	if v := p.violations(); len(v) > 0 {
		return nil, &ValidationError{Violations: v}
	}
	if pw.IsZero() {
		return nil, errors.New("new account: no password hash")
	}
	return &Account{passwordHash: pw.hash, profile: p.normalized()}, nil
}

// ValidateProfile checks the field rules alone, so that callers can refuse
// bad input before they pay for hashing a password.
func ValidateProfile(p Profile) error {
	if v := p.violations(); len(v) > 0 {
		return &ValidationError{Violations: v}
	}
	return nil
}

// Restore rebuilds an account that was stored earlier. It trusts its input:
// only repositories call it.
func Restore(id int64, passwordHash string, p Profile) *Account {
	return &Account{id: id, passwordHash: passwordHash, profile: p.normalized()}
}

// CheckUpdate validates an update of account targetID asked for by the
// account callerID (0 for an anonymous caller or one whose account is
// unknown). Like the original, the ownership rule is a validation failure
// reported together with the field rules.
func CheckUpdate(p Profile, targetID, callerID int64) error {
	v := p.violations()
	if callerID == 0 || callerID != targetID {
		v = append(v, MsgNotCurrentUser)
	}
	if len(v) > 0 {
		return &ValidationError{Violations: v}
	}
	return nil
}

// Replace overwrites every profile field, as the original's save does, and
// the password unless pw is zero (see PasswordChange).
func (a *Account) Replace(p Profile, pw Password) error {
	if v := p.violations(); len(v) > 0 {
		return &ValidationError{Violations: v}
	}
	if !pw.IsZero() {
		a.passwordHash = pw.hash
	}
	a.profile = p.normalized()
	return nil
}

// VerifyPassword reports whether wirePassword is this account's password.
func (a *Account) VerifyPassword(wirePassword string) bool {
	return passwordMatches(a.passwordHash, wirePassword)
}

func (a *Account) ID() int64            { return a.id }
func (a *Account) Username() string     { return a.profile.Username }
func (a *Account) PasswordHash() string { return a.passwordHash }

// Profile returns a copy of the account's profile.
func (a *Account) Profile() Profile {
	p := a.profile
	p.Avatar = clonePtr(p.Avatar)
	p.Telephone = clonePtr(p.Telephone)
	p.Email = clonePtr(p.Email)
	p.Location = clonePtr(p.Location)
	return p
}

func clonePtr(s *string) *string {
	if s == nil {
		return nil
	}
	c := *s
	return &c
}

// Repository stores accounts. Implementations enforce uniqueness of
// username, email and telephone (non-NULL values) in the database itself, so
// that two concurrent writers cannot both pass.
type Repository interface {
	// Create stores a new account and returns it with its id. A username,
	// email or telephone already in use gives ErrDuplicateAccount.
	Create(ctx context.Context, a *Account) (*Account, error)
	// Update loads account id, lets fn change it and stores the result, all
	// in one transaction. A clash with another account gives
	// ErrConflictingAccount; an unknown id gives ErrNotFound.
	Update(ctx context.Context, id int64, fn func(*Account) error) (*Account, error)
	// ByUsername returns the account with exactly this username, or ErrNotFound.
	ByUsername(ctx context.Context, username string) (*Account, error)
}

// NormalizeLoginName is how a login name is matched at the token endpoint:
// the original's authentication provider lowercases it before the lookup.
func NormalizeLoginName(username string) string {
	return strings.ToLower(username)
}
