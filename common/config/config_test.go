package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testConfig exercises what real services declare: nested tables, a hot
// subtree, a hot leaf inside a restart table, durations, slices, maps,
// arrays of tables and a squashed struct.
type testConfig struct {
	Server   serverConfig      `mapstructure:"server"`
	DB       dbConfig          `mapstructure:"db"`
	Log      logConfig         `mapstructure:"log" hot:"true"`
	Payment  paymentConfig     `mapstructure:"payment"`
	Features []string          `mapstructure:"features" hot:"true"`
	Labels   map[string]string `mapstructure:"labels"`
	Upstream []upstream        `mapstructure:"upstream" validate:"dive"`
}

type serverConfig struct {
	Addr         string        `mapstructure:"addr" validate:"required"`
	Port         int           `mapstructure:"port" validate:"min=1,max=65535"`
	ReadTimeout  time.Duration `mapstructure:"read_timeout"`
	ShutdownWait time.Duration `mapstructure:"shutdown_wait"`
}

type dbConfig struct {
	DSN      string `mapstructure:"dsn" validate:"required"`
	MaxConns int    `mapstructure:"max_conns"`
}

type logConfig struct {
	Level  string `mapstructure:"level" validate:"oneof=debug info warn error"`
	Format string `mapstructure:"format"`
}

type paymentConfig struct {
	retryPolicy `mapstructure:",squash"`
	Currency    string        `mapstructure:"currency" validate:"required,len=3"`
	Expires     time.Duration `mapstructure:"expires" hot:"true"`
}

type retryPolicy struct {
	Retries int `mapstructure:"retries" validate:"max=10"`
}

type upstream struct {
	Name string `mapstructure:"name" validate:"required"`
	Addr string `mapstructure:"addr"`
}

// Validate is a cross-field rule the tags cannot express.
func (c *testConfig) Validate() error {
	if c.Payment.Expires > 24*time.Hour {
		return &KeyError{Key: "payment.expires", Err: errors.New("must be at most 24h")}
	}
	return nil
}

const goodTOML = `
features = ["search", "reviews"]

[server]
addr = "0.0.0.0"
port = 8080
read_timeout = "5s"
shutdown_wait = "1m30s"

[db]
dsn = "user:pw@tcp(db:3306)/books"
max_conns = 20

[log]
level = "info"
format = "json"

[payment]
currency = "EUR"
expires = "15m"
retries = 3

[labels]
team = "store"

[[upstream]]
name = "warehouse"
addr = "warehouse:8888"

[[upstream]]
name = "account"
`

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	writeFile(t, path, content)
	return path
}

func TestLoadGood(t *testing.T) {
	c, err := Load[testConfig](writeTemp(t, goodTOML))
	require.NoError(t, err)

	want := testConfig{
		Server: serverConfig{Addr: "0.0.0.0", Port: 8080, ReadTimeout: 5 * time.Second, ShutdownWait: 90 * time.Second},
		DB:     dbConfig{DSN: "user:pw@tcp(db:3306)/books", MaxConns: 20},
		Log:    logConfig{Level: "info", Format: "json"},
		Payment: paymentConfig{
			retryPolicy: retryPolicy{Retries: 3},
			Currency:    "EUR",
			Expires:     15 * time.Minute,
		},
		Features: []string{"search", "reviews"},
		Labels:   map[string]string{"team": "store"},
		Upstream: []upstream{{Name: "warehouse", Addr: "warehouse:8888"}, {Name: "account"}},
	}
	assert.Equal(t, &want, c)
}

// TestLoadErrors checks that every kind of bad file is rejected with an
// error naming the key an operator has to fix.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(string) string
		wantKey string // "" when the error is not about one key
		wantMsg string
	}{
		{
			name:    "unknown nested key",
			edit:    replace(`dsn =`, `dnss =`),
			wantKey: "db.dnss",
			wantMsg: `config: unknown key "db.dnss"`,
		},
		{
			name:    "unknown top-level key",
			edit:    prepend(`debug = true`),
			wantKey: "debug",
			wantMsg: `config: unknown key "debug"`,
		},
		{
			name:    "unknown table",
			edit:    appendText("[cache]\nsize = 10\n"),
			wantKey: "cache.size",
			wantMsg: `config: unknown key "cache.size"`,
		},
		{
			name:    "unknown key in array of tables",
			edit:    appendText("[[upstream]]\nname = \"x\"\nport = 1\n"),
			wantKey: "upstream[2].port",
			wantMsg: `config: unknown key "upstream[2].port"`,
		},
		{
			name:    "required missing",
			edit:    replace(`addr = "0.0.0.0"`, ``),
			wantKey: "server.addr",
			wantMsg: `config: key "server.addr": required`,
		},
		{
			name:    "out of range",
			edit:    replace(`port = 8080`, `port = 70000`),
			wantKey: "server.port",
			wantMsg: `config: key "server.port": max=65535`,
		},
		{
			name:    "not one of",
			edit:    replace(`level = "info"`, `level = "loud"`),
			wantKey: "log.level",
			wantMsg: `config: key "log.level": oneof=debug info warn error`,
		},
		{
			name:    "invalid in squashed struct",
			edit:    replace(`retries = 3`, `retries = 11`),
			wantKey: "payment.retries",
			wantMsg: `config: key "payment.retries": max=10`,
		},
		{
			name:    "invalid in array of tables",
			edit:    replace(`name = "account"`, `addr = "account:8888"`),
			wantKey: "upstream[1].name",
			wantMsg: `config: key "upstream[1].name": required`,
		},
		{
			name:    "wrong type int",
			edit:    replace(`port = 8080`, `port = "eighty"`),
			wantKey: "server.port",
			wantMsg: `config: key "server.port": cannot parse value as 'int'`,
		},
		{
			name:    "wrong type duration",
			edit:    replace(`read_timeout = "5s"`, `read_timeout = "5 parsecs"`),
			wantKey: "server.read_timeout",
			wantMsg: `config: key "server.read_timeout": `,
		},
		{
			name:    "duration without unit",
			edit:    replace(`read_timeout = "5s"`, `read_timeout = 5`),
			wantKey: "server.read_timeout",
			wantMsg: `config: key "server.read_timeout": expected a duration string with a unit, such as "5s", got int64`,
		},
		{
			name:    "table where a value belongs",
			edit:    replace(`dsn = "user:pw@tcp(db:3306)/books"`, "dsn = { host = \"db\" }"),
			wantKey: "db.dsn",
			wantMsg: `config: key "db.dsn": expected type 'string'`,
		},
		{
			name:    "array where a value belongs",
			edit:    replace(`addr = "0.0.0.0"`, `addr = [1, 2]`),
			wantKey: "server.addr",
			wantMsg: `config: key "server.addr": `,
		},
		{
			name:    "Validate method",
			edit:    replace(`expires = "15m"`, `expires = "48h"`),
			wantKey: "payment.expires",
			wantMsg: `config: key "payment.expires": must be at most 24h`,
		},
		{
			name:    "syntax error",
			edit:    appendText("[server\n"),
			wantMsg: "config: parse ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load[testConfig](writeTemp(t, tt.edit(goodTOML)))
			require.Error(t, err)
			t.Log(err)
			assert.Contains(t, err.Error(), tt.wantMsg)
			var ke *KeyError
			if tt.wantKey == "" {
				assert.False(t, errors.As(err, &ke), "unexpected KeyError %v", ke)
				return
			}
			require.ErrorAs(t, err, &ke)
			assert.Equal(t, tt.wantKey, ke.Key)
		})
	}
}

func TestLoadReportsEveryBadKey(t *testing.T) {
	_, err := Load[testConfig](writeTemp(t, replace(`port = 8080`, `port = 0`)(replace(`currency = "EUR"`, `currency = "EURO"`)(goodTOML))))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `config: key "server.port": min=1`)
	assert.Contains(t, err.Error(), `config: key "payment.currency": len=3`)
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load[testConfig](filepath.Join(t.TempDir(), "nope.toml"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestLoadNotAStruct(t *testing.T) {
	_, err := Load[map[string]any](writeTemp(t, goodTOML))
	require.ErrorContains(t, err, "is not a struct")
}

func TestLoadEnvOverrides(t *testing.T) {
	// Strip keys from the file to prove that keys it does not mention can
	// still come from the environment, including required ones.
	file := replace(`expires = "15m"`, ``)(replace(`dsn = "user:pw@tcp(db:3306)/books"`, ``)(goodTOML))
	path := writeTemp(t, file)

	t.Setenv("SERVER_PORT", "9090")                  // in the file, int
	t.Setenv("SERVER_READ_TIMEOUT", "250ms")         // in the file, duration
	t.Setenv("DB_DSN", "env:secret@tcp(db)/books")   // absent, required
	t.Setenv("PAYMENT_EXPIRES", "30m")               // absent, hot
	t.Setenv("PAYMENT_RETRIES", "5")                 // squashed
	t.Setenv("FEATURES", "search,wishlist,checkout") // slice from a string
	t.Setenv("LOG_LEVEL", "")                        // empty means unset

	c, err := Load[testConfig](path)
	require.NoError(t, err)
	assert.Equal(t, 9090, c.Server.Port)
	assert.Equal(t, 250*time.Millisecond, c.Server.ReadTimeout)
	assert.Equal(t, "env:secret@tcp(db)/books", c.DB.DSN)
	assert.Equal(t, 30*time.Minute, c.Payment.Expires)
	assert.Equal(t, 5, c.Payment.Retries)
	assert.Equal(t, []string{"search", "wishlist", "checkout"}, c.Features)
	assert.Equal(t, "info", c.Log.Level)
	assert.Equal(t, "0.0.0.0", c.Server.Addr, "keys without env keep the file's value")
}

func TestLoadEnvValueIsValidated(t *testing.T) {
	t.Setenv("SERVER_PORT", "99999")
	_, err := Load[testConfig](writeTemp(t, goodTOML))
	require.ErrorContains(t, err, `config: key "server.port": max=65535`)
}

func TestPath(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		t.Setenv("CONFIG_PATH", "")
		assert.Equal(t, "conf/config.toml", Path())

		// The default is relative to the working directory.
		dir := t.TempDir()
		require.NoError(t, os.Mkdir(filepath.Join(dir, "conf"), 0o755))
		writeFile(t, filepath.Join(dir, "conf", "config.toml"), goodTOML)
		t.Chdir(dir)
		c, err := Load[testConfig](Path())
		require.NoError(t, err)
		assert.Equal(t, 8080, c.Server.Port)
	})
	t.Run("CONFIG_PATH", func(t *testing.T) {
		path := writeTemp(t, replace(`port = 8080`, `port = 8181`)(goodTOML))
		t.Setenv("CONFIG_PATH", path)
		assert.Equal(t, path, Path())
		c, err := Load[testConfig](Path())
		require.NoError(t, err)
		assert.Equal(t, 8181, c.Server.Port)
	})
}

func TestSchemaEnvKeys(t *testing.T) {
	got := schemaOf(reflect.TypeFor[testConfig]()).envKeys()
	assert.Equal(t, []string{
		"db.dsn", "db.max_conns",
		"features",
		"labels",
		"log.format", "log.level",
		"payment.currency", "payment.expires", "payment.retries",
		"server.addr", "server.port", "server.read_timeout", "server.shutdown_wait",
		"upstream",
	}, got)
}

func TestMerge(t *testing.T) {
	base, err := Load[testConfig](writeTemp(t, goodTOML))
	require.NoError(t, err)

	tests := []struct {
		name        string
		edit        func(*testConfig)
		wantHot     []string
		wantRestart []string
		check       func(t *testing.T, got *testConfig)
	}{
		{
			name: "nothing changed",
			edit: func(*testConfig) {},
			check: func(t *testing.T, got *testConfig) {
				assert.Equal(t, base, got)
			},
		},
		{
			name:    "hot subtree",
			edit:    func(c *testConfig) { c.Log.Level = "debug" },
			wantHot: []string{"log.level"},
			check: func(t *testing.T, got *testConfig) {
				assert.Equal(t, "debug", got.Log.Level)
			},
		},
		{
			name:    "hot leaf inside a restart table",
			edit:    func(c *testConfig) { c.Payment.Expires = time.Hour; c.Payment.Currency = "USD" },
			wantHot: []string{"payment.expires"}, wantRestart: []string{"payment.currency"},
			check: func(t *testing.T, got *testConfig) {
				assert.Equal(t, time.Hour, got.Payment.Expires)
				assert.Equal(t, "EUR", got.Payment.Currency)
			},
		},
		{
			name:        "restart keys only",
			edit:        func(c *testConfig) { c.DB.DSN = "other"; c.Payment.Retries = 1; c.Labels = nil },
			wantRestart: []string{"db.dsn", "payment.retries", "labels"},
			check: func(t *testing.T, got *testConfig) {
				assert.Equal(t, base, got)
			},
		},
		{
			name:    "hot slice",
			edit:    func(c *testConfig) { c.Features = []string{"x"} },
			wantHot: []string{"features"},
			check: func(t *testing.T, got *testConfig) {
				assert.Equal(t, []string{"x"}, got.Features)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nw, err := Load[testConfig](writeTemp(t, goodTOML))
			require.NoError(t, err)
			tt.edit(nw)
			got := new(testConfig)
			var d diff
			merge(reflect.ValueOf(got).Elem(), reflect.ValueOf(base).Elem(), reflect.ValueOf(nw).Elem(), "", &d)
			assert.ElementsMatch(t, tt.wantHot, d.hot, "hot")
			assert.ElementsMatch(t, tt.wantRestart, d.restart, "restart")
			tt.check(t, got)
		})
	}
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("test edit: " + old + " not found")
		}
		return strings.Replace(s, old, new, 1)
	}
}

func prepend(text string) func(string) string {
	return func(s string) string { return text + "\n" + s }
}

func appendText(text string) func(string) string {
	return func(s string) string { return s + "\n" + text }
}

type ptrConfig struct {
	Cache *cacheConfig `mapstructure:"cache"`
}

type cacheConfig struct {
	Size int    `mapstructure:"size" hot:"true"`
	Dir  string `mapstructure:"dir"`
}

func TestMergePointerStruct(t *testing.T) {
	load := func(content string) *ptrConfig {
		c, err := Load[ptrConfig](writeTemp(t, content))
		require.NoError(t, err)
		return c
	}
	mergeOf := func(cur, nw *ptrConfig) (*ptrConfig, diff) {
		got := new(ptrConfig)
		var d diff
		merge(reflect.ValueOf(got).Elem(), reflect.ValueOf(cur).Elem(), reflect.ValueOf(nw).Elem(), "", &d)
		return got, d
	}

	cur := load("[cache]\nsize = 1\ndir = \"a\"\n")
	got, d := mergeOf(cur, load("[cache]\nsize = 2\ndir = \"b\"\n"))
	assert.Equal(t, &cacheConfig{Size: 2, Dir: "a"}, got.Cache)
	assert.Equal(t, &cacheConfig{Size: 1, Dir: "a"}, cur.Cache, "current config untouched")
	assert.Equal(t, diff{hot: []string{"cache.size"}, restart: []string{"cache.dir"}}, d)

	got, d = mergeOf(cur, load("[cache]\nsize = 1\ndir = \"a\"\n"))
	assert.Same(t, cur.Cache, got.Cache, "unchanged subtree keeps its pointer")
	assert.Equal(t, diff{}, d)

	// Appearing or disappearing is a change of the whole table, which is
	// not hot.
	got, d = mergeOf(load(""), cur)
	assert.Nil(t, got.Cache)
	assert.Equal(t, []string{"cache"}, d.restart)
}
