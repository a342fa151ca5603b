package domain

import (
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// PasswordCost is the bcrypt cost of stored hashes: the original's
// BCryptPasswordEncoder default, so seeded and new hashes cost the same.
const PasswordCost = 10

// Password is the stored form of a wire password (the browser's pre-hashed
// string, contract §3.3): its bcrypt hash. The zero Password means "no
// change" to Account.Replace.
type Password struct {
	hash string
}

// HashPassword hashes a wire password. It is slow on purpose (bcrypt), so
// callers do it before they open a transaction.
func HashPassword(wirePassword string) (Password, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(wirePassword), PasswordCost)
	if err != nil {
		return Password{}, fmt.Errorf("hash password: %w", err)
	}
	return Password{hash: string(h)}, nil
}

// PasswordChange is the password an update sets: none for an empty wire
// password, which keeps the stored hash. The browser cannot send the old
// hash back because the service never hands it out.
func PasswordChange(wirePassword string) (Password, error) {
	if wirePassword == "" {
		return Password{}, nil
	}
	return HashPassword(wirePassword)
}

// IsZero reports whether p is "no password given".
func (p Password) IsZero() bool { return p.hash == "" }

// dummyHash is compared against when there is no account to check, so that
// an unknown username costs as much time as a wrong password. It is the
// hash of "no such account" at PasswordCost, so comparing against it costs
// what comparing against a real hash does.
const dummyHash = "$2a$10$KVEUCpjrKQwHwO/2Zj5jY.r2xplUMPzmOoj6mE3g/0dZ3836qwCQO"

// passwordMatches reports whether wirePassword matches hash. An empty
// password never matches, but is still run through bcrypt to take the usual
// time.
func passwordMatches(hash, wirePassword string) bool {
	ok := bcrypt.CompareHashAndPassword([]byte(hash), []byte(wirePassword)) == nil
	return ok && wirePassword != ""
}

// BurnPasswordCheck spends the time of one password check, for callers that
// found no account to check against.
func BurnPasswordCheck(wirePassword string) {
	_ = passwordMatches(dummyHash, wirePassword)
}
