package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/common/ut"
	"github.com/cloudwego/hertz/pkg/route"
)

func engine(t *testing.T) *route.Engine {
	t.Helper()
	e := route.NewEngine(config.NewOptions([]config.Option{{F: func(o *config.Options) { o.DisablePrintRoute = true }}}))
	Register(e)
	return e
}

type answer struct {
	status int
	header map[string]string
	body   []byte
}

func get(t *testing.T, e *route.Engine, url string, headers ...ut.Header) answer {
	t.Helper()
	w := ut.PerformRequest(e, http.MethodGet, url, nil, headers...)
	res := w.Result()
	h := map[string]string{}
	res.Header.VisitAll(func(k, v []byte) { h[string(k)] = string(v) })
	return answer{status: res.StatusCode(), header: h, body: res.Body()}
}

// The storefront's page names its built script and stylesheet, and both
// are in the embedded build: a stale or partial `make web` fails here.
func TestStorefrontPageAndItsAssets(t *testing.T) {
	e := engine(t)
	for _, p := range []string{"/", "/index.html"} {
		a := get(t, e, p)
		if a.status != 200 || !strings.HasPrefix(a.header["Content-Type"], "text/html") {
			t.Fatalf("GET %s: %d %q", p, a.status, a.header["Content-Type"])
		}
		if a.header["Cache-Control"] != "no-cache" || !strings.Contains(a.header["Content-Security-Policy"], "script-src 'self'") {
			t.Errorf("GET %s: headers %v", p, a.header)
		}
		// Without JavaScript the page still says where the API is.
		if !strings.Contains(string(a.body), "/restful") {
			t.Errorf("GET %s: the page does not mention /restful", p)
		}
	}
	page := string(get(t, e, "/").body)
	refs := regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`).FindAllStringSubmatch(page, -1)
	kinds := map[string]bool{}
	for _, m := range refs {
		a := get(t, e, m[1])
		if a.status != 200 || len(a.body) == 0 {
			t.Errorf("GET %s (named by index.html): %d", m[1], a.status)
			continue
		}
		if hashed.MatchString(m[1]) && a.header["Cache-Control"] != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: Cache-Control %q", m[1], a.header["Cache-Control"])
		}
		kinds[m[1][strings.LastIndex(m[1], "."):]] = true
	}
	if !kinds[".js"] || !kinds[".css"] {
		t.Errorf("index.html names no built script or stylesheet: %q", refs)
	}
}

func TestUnhashedStaticFileIsRevalidated(t *testing.T) {
	a := get(t, engine(t), "/static/licenses.txt")
	if a.status != 200 || !strings.Contains(string(a.body), "bcryptjs") || a.header["Cache-Control"] != "no-cache" {
		t.Fatalf("GET licences: %d %q", a.status, a.header["Cache-Control"])
	}
}

func TestMissingStaticFileIs404(t *testing.T) {
	e := engine(t)
	// The seed's cover paths do not exist here: the page shows a placeholder.
	for _, p := range []string{"/static/cover/jvm3.jpg", "/static/", "/static/nope/", "/api/nope.js"} {
		if a := get(t, e, p); a.status != 404 {
			t.Errorf("GET %s: %d, want 404", p, a.status)
		}
	}
}

func TestConditionalAndCompressedAnswers(t *testing.T) {
	e := engine(t)
	first := get(t, e, "/api/swagger-ui-bundle.js")
	etag := first.header["Etag"]
	if first.status != 200 || etag == "" {
		t.Fatalf("GET bundle: %d etag %q", first.status, etag)
	}
	if a := get(t, e, "/api/swagger-ui-bundle.js", ut.Header{Key: "If-None-Match", Value: etag}); a.status != 304 || len(a.body) != 0 {
		t.Errorf("revalidation: %d with %d bytes, want 304 and none", a.status, len(a.body))
	}
	gz := get(t, e, "/api/swagger-ui-bundle.js", ut.Header{Key: "Accept-Encoding", Value: "gzip, deflate"})
	if gz.header["Content-Encoding"] != "gzip" || len(gz.body) >= len(first.body)/2 {
		t.Fatalf("gzip: encoding %q, %d bytes of %d", gz.header["Content-Encoding"], len(gz.body), len(first.body))
	}
	r, err := gzip.NewReader(bytes.NewReader(gz.body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(plain, first.body) {
		t.Fatalf("gzip body does not inflate to the file (err %v)", err)
	}
}

func TestAPIBrowser(t *testing.T) {
	e := engine(t)
	for _, p := range []string{"/api", "/api/", "/api/index.html"} {
		a := get(t, e, p)
		if a.status != 200 || !strings.Contains(string(a.body), `id="swagger-ui"`) {
			t.Fatalf("GET %s: %d", p, a.status)
		}
	}
	page := string(get(t, e, "/api").body)
	for _, m := range regexp.MustCompile(`(?:src|href)="(/api/[^"]+)"`).FindAllStringSubmatch(page, -1) {
		if a := get(t, e, m[1]); a.status != 200 {
			t.Errorf("GET %s (named by the API page): %d", m[1], a.status)
		}
	}
	init := string(get(t, e, "/api/init.js").body)
	for _, want := range []string{"/openapi.json", "bookstore_frontend", "validatorUrl: null"} {
		if !strings.Contains(init, want) {
			t.Errorf("init.js lacks %q", want)
		}
	}
}

// The document is OpenAPI 3, every $ref in it resolves, and it tells how
// to log in with the wire form of the password.
func TestOpenAPIDocument(t *testing.T) {
	a := get(t, engine(t), "/openapi.json")
	if a.status != 200 || a.header["Content-Type"] != "application/json" {
		t.Fatalf("GET /openapi.json: %d %q", a.status, a.header["Content-Type"])
	}
	var doc map[string]any
	if err := json.Unmarshal(a.body, &doc); err != nil {
		t.Fatal(err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi = %q", v)
	}
	info, _ := doc["info"].(map[string]any)
	desc, _ := info["description"].(string)
	for _, want := range []string{"MFfTW3uNI4eqhwDkG7HP9p2mzEUu/r2", "$2a$10$o5L.dWYEjZjaejOmN3x4Qu", "bookstore_frontend"} {
		if !strings.Contains(desc, want) {
			t.Errorf("info.description does not mention %q", want)
		}
	}
	flows := dig(doc, "components", "securitySchemes", "fenix_oauth", "flows", "password")
	if flows == nil || flows.(map[string]any)["tokenUrl"] != "/oauth/token" {
		t.Errorf("fenix_oauth password flow = %v", flows)
	}

	var refs []string
	collectRefs(doc, &refs)
	if len(refs) == 0 {
		t.Fatal("no $ref in the document")
	}
	for _, r := range refs {
		if !strings.HasPrefix(r, "#/") || dig(doc, strings.Split(strings.TrimPrefix(r, "#/"), "/")...) == nil {
			t.Errorf("$ref %q does not resolve", r)
		}
	}
	// Every operation answers something and names the schemes it uses.
	schemes, _ := dig(doc, "components", "securitySchemes").(map[string]any)
	for p, item := range doc["paths"].(map[string]any) {
		for method, o := range item.(map[string]any) {
			op := o.(map[string]any)
			if len(op["responses"].(map[string]any)) == 0 || op["operationId"] == nil {
				t.Errorf("%s %s: no responses or operationId", method, p)
			}
			sec, _ := op["security"].([]any)
			for _, req := range sec {
				for name := range req.(map[string]any) {
					if schemes[name] == nil {
						t.Errorf("%s %s: unknown security scheme %q", method, p, name)
					}
				}
			}
		}
	}
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func collectRefs(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "$ref" {
				*out = append(*out, s)
			} else {
				collectRefs(e, out)
			}
		}
	case []any:
		for _, e := range x {
			collectRefs(e, out)
		}
	}
}
