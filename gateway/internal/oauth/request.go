package oauth

import (
	"encoding/base64"
	"mime"
	"net/url"
	"strings"
)

// tokenRequest is what a client asked the token endpoint for.
type tokenRequest struct {
	grantType    string
	clientID     string
	clientSecret string
	// basic says the client authenticated with HTTP Basic; paramClient is
	// then the client_id parameter, which must not name another client.
	basic        bool
	paramClient  string
	scope        []string
	scopeGiven   bool
	username     string
	password     string
	refreshToken string
}

// parseRequest reads the parameters of a token request: the query string,
// plus a form body on POST (Spring merges both), and the client's
// credentials from HTTP Basic or, failing that, from the parameters.
func parseRequest(method, rawQuery, contentType string, body []byte, authorization string) (tokenRequest, error) {
	params, err := url.ParseQuery(rawQuery)
	if err != nil {
		return tokenRequest{}, errBadParams
	}
	if method == "POST" && len(body) > 0 {
		mt, _, _ := mime.ParseMediaType(contentType)
		if mt == "application/x-www-form-urlencoded" {
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return tokenRequest{}, errBadParams
			}
			for k, vs := range form {
				params[k] = append(params[k], vs...)
			}
		}
	}
	r := tokenRequest{
		grantType:    params.Get("grant_type"),
		paramClient:  params.Get("client_id"),
		username:     params.Get("username"),
		password:     params.Get("password"),
		refreshToken: params.Get("refresh_token"),
	}
	if s, ok := params["scope"]; ok && strings.TrimSpace(strings.Join(s, " ")) != "" {
		r.scopeGiven = true
		r.scope = strings.FieldsFunc(strings.Join(s, " "), func(c rune) bool { return c == ' ' || c == ',' })
	}
	if id, secret, ok := basicAuth(authorization); ok {
		r.clientID, r.clientSecret, r.basic = id, secret, true
	} else {
		r.clientID, r.clientSecret = params.Get("client_id"), params.Get("client_secret")
	}
	return r, nil
}

// basicAuth decodes "Basic base64(id:secret)" (scheme case-insensitive).
func basicAuth(h string) (id, secret string, ok bool) {
	scheme, rest, found := strings.Cut(strings.TrimSpace(h), " ")
	if !found || !strings.EqualFold(scheme, "basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return "", "", false
	}
	id, secret, ok = strings.Cut(string(raw), ":")
	return id, secret, ok
}
