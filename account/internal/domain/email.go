package domain

import (
	"regexp"
	"strings"
)

// The email rule follows Hibernate Validator's @Email (the original's
// validator): a dot-atom or quoted local part of at most 64 characters, and
// a domain of dash-joined labels or an IP literal. Like @Email it accepts a
// domain without a dot ("a@localhost").
var (
	emailLocalAtom   = "[a-z0-9!#$%&'*+/=?^_`{|}~\u0080-\uffff-]+"
	emailLocalQuoted = `"(?:[a-z0-9!#$%&'*.(),<>\[\]:;  @+/=?^_` + "`" + `{|}~\x{80}-\x{ffff}-]|\\\\|\\")+"`
	emailLocalWord   = "(?:" + emailLocalAtom + "|" + emailLocalQuoted + ")"
	emailLocal       = regexp.MustCompile("(?i)^" + emailLocalWord + `(?:\.` + emailLocalWord + ")*$")

	emailDomainChar  = "[a-z\u0080-\uffff0-9!#$%&'*+/=?^_`{|}~]"
	emailDomainLabel = "(?:" + emailDomainChar + "-*)*" + emailDomainChar + "+"
	emailDomain      = regexp.MustCompile("(?i)^(?:" + emailDomainLabel + `(?:\.` + emailDomainLabel + `)*` +
		`|\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\]` +
		`|\[IPv6:[0-9a-f:.]+\])$`)
)

const (
	maxEmailLocalLength  = 64
	maxEmailDomainLength = 255
)

// ValidEmail reports whether s is a well-formed email address.
func ValidEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if len([]rune(local)) > maxEmailLocalLength || len(domain) > maxEmailDomainLength {
		return false
	}
	return emailLocal.MatchString(local) && emailDomain.MatchString(domain)
}
