// Package capture holds the responses the harness records from the real
// gateway and the limit server replays byte for byte.
package capture

import (
	"encoding/json"
	"os"
	"strings"
)

// Response is one recorded answer. Path matches a request's path exactly,
// or, when Prefix is set, any path that starts with it (payment ids vary).
type Response struct {
	Method string            `json:"method"`
	Path   string            `json:"path"`
	Prefix bool              `json:"prefix,omitempty"`
	Status int               `json:"status"`
	Header map[string]string `json:"header"`
	Body   []byte            `json:"body"`
}

// Set finds the recorded answer of a request.
type Set struct {
	exact    map[string]*Response
	prefixes []*Response
}

// NewSet indexes rs.
func NewSet(rs []Response) *Set {
	s := &Set{exact: map[string]*Response{}}
	for i := range rs {
		r := &rs[i]
		if r.Prefix {
			s.prefixes = append(s.prefixes, r)
		} else {
			s.exact[r.Method+" "+r.Path] = r
		}
	}
	return s
}

// Find returns the answer to method and path, or nil.
func (s *Set) Find(method, path string) *Response {
	if r, ok := s.exact[method+" "+path]; ok {
		return r
	}
	for _, r := range s.prefixes {
		if r.Method == method && strings.HasPrefix(path, r.Path) {
			return r
		}
	}
	return nil
}

// Save writes rs to path as JSON.
func Save(path string, rs []Response) error {
	b, err := json.MarshalIndent(rs, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Load reads what Save wrote.
func Load(path string) ([]Response, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rs []Response
	return rs, json.Unmarshal(b, &rs)
}
