// Package web serves what a person opens in a browser: the storefront at /
// (a single-page app built from /web by `make web` into dist/, committed so
// that building the gateway needs no Node), the API browser at /api (Swagger
// UI) and the OpenAPI document of the REST contract at /openapi.json.
//
// Everything is embedded in the binary; nothing is fetched from elsewhere.
package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/route"
)

//go:embed all:dist
var dist embed.FS

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI 3 document of the REST contract and the token
// endpoint.
func OpenAPI() []byte { return bytes.Clone(openAPI) }

// Route is a route this package registers.
type Route struct{ Method, Path string }

// Routes are the routes Register adds: pages and files, not part of the
// REST contract, hence not in the OpenAPI document. Anything else (an
// unknown path) stays with the gateway's 404.
var Routes = []Route{
	{http.MethodGet, "/"},
	{http.MethodGet, "/index.html"},
	{http.MethodGet, "/static/*filepath"},
	{http.MethodGet, "/api"},
	{http.MethodGet, "/api/*filepath"},
	{http.MethodGet, "/openapi.json"},
}

// Register mounts the storefront, the API browser and the document on r.
func Register(r route.IRoutes) {
	s := newServer()
	handlers := map[string]app.HandlerFunc{
		"/":                 s.file("index.html"),
		"/index.html":       s.file("index.html"),
		"/static/*filepath": s.dir("static"),
		"/api":              s.file("api/index.html"),
		"/api/*filepath":    s.dir("api"),
		"/openapi.json":     s.file("openapi.json"),
	}
	for _, rt := range Routes {
		r.Handle(rt.Method, rt.Path, handlers[rt.Path])
	}
}

// Content-Security-Policy of the pages: only this origin's scripts, styles
// and connections. Inline style attributes are allowed because Swagger UI
// sets them; data: images are the small icons both apps inline.
const csp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"

// asset is one file, with what its answers need computed once.
type asset struct {
	body        []byte
	contentType string
	etag        string
	immutable   bool // a content-hashed build file: cacheable for good
	gzipOnce    sync.Once
	gzipped     []byte // nil when compressing does not pay
}

type server struct{ files map[string]*asset }

// hashed matches the names vite gives build files, name-<8-char hash>.ext;
// files the build adds itself (licenses.txt) avoid that shape.
var hashed = regexp.MustCompile(`-[A-Za-z0-9_-]{8}\.[a-z0-9]+$`)

func newServer() *server {
	s := &server{files: map[string]*asset{}}
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		s.add(p, b, strings.HasPrefix(p, "static/") && hashed.MatchString(p))
		return nil
	})
	if err != nil {
		panic(err)
	}
	s.add("openapi.json", openAPI, false)
	return s
}

// contentTypes fixes the types of the build's files; the system's MIME
// tables, which mime.TypeByExtension reads, differ between machines.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".txt":  "text/plain; charset=utf-8",
}

func (s *server) add(name string, b []byte, immutable bool) {
	ct := contentTypes[path.Ext(name)]
	if ct == "" {
		ct = mime.TypeByExtension(path.Ext(name))
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	sum := sha256.Sum256(b)
	s.files[name] = &asset{
		body:        b,
		contentType: ct,
		etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
		immutable:   immutable,
	}
}

func (s *server) file(name string) app.HandlerFunc {
	a := s.files[name]
	if a == nil {
		panic("web: " + name + " is not in the build; run make web")
	}
	return func(_ context.Context, c *app.RequestContext) { serve(c, a) }
}

// dir serves the files under prefix by the route's *filepath; a directory
// (the empty path) means its index.html.
func (s *server) dir(prefix string) app.HandlerFunc {
	return func(_ context.Context, c *app.RequestContext) {
		rel := strings.TrimPrefix(c.Param("filepath"), "/")
		if rel == "" {
			rel = "index.html"
		}
		a := s.files[path.Join(prefix, path.Clean("/"+rel))]
		if a == nil || strings.HasSuffix(rel, "/") {
			c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("404 page not found\n"))
			return
		}
		serve(c, a)
	}
}

func serve(c *app.RequestContext, a *asset) {
	h := &c.Response.Header
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", a.etag)
	if a.immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		// Pages and the document name the current build's files: revalidate.
		h.Set("Cache-Control", "no-cache")
	}
	if strings.HasPrefix(a.contentType, "text/html") {
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "same-origin")
	}
	h.Set("Vary", "Accept-Encoding")
	if etagMatches(string(c.GetHeader("If-None-Match")), a.etag) {
		c.SetStatusCode(http.StatusNotModified)
		return
	}
	body := a.body
	if strings.Contains(string(c.GetHeader("Accept-Encoding")), "gzip") {
		if gz := a.gzip(); gz != nil {
			h.Set("Content-Encoding", "gzip")
			body = gz
		}
	}
	c.Data(http.StatusOK, a.contentType, body)
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// gzip compresses text assets once, on first demand: Swagger UI's bundle
// shrinks from 1.7 MB to about 0.5 MB.
func (a *asset) gzip() []byte {
	a.gzipOnce.Do(func() {
		if len(a.body) < 1024 || !compressible(a.contentType) {
			return
		}
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		w.Write(a.body)
		w.Close()
		if buf.Len() < len(a.body)*9/10 {
			a.gzipped = buf.Bytes()
		}
	})
	return a.gzipped
}

func compressible(contentType string) bool {
	for _, p := range []string{"text/", "application/javascript", "application/json", "image/svg+xml"} {
		if strings.HasPrefix(contentType, p) {
			return true
		}
	}
	return false
}
