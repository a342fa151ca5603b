package config

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitFor is generous because -race on two cores is slow; it returns as
// soon as cond holds, so passing runs stay fast.
const waitFor = 10 * time.Second

func eventually(t *testing.T, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: "+format, args...)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logRecorder keeps log lines for assertions. It is not tied to t, so a
// late line from a watcher cannot panic a finished test.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	line := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			line += " err=" + a.Value.String()
		}
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lines = append(h.lines, line)
	return nil
}

func (h *logRecorder) has(sub string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, l := range h.lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func (h *logRecorder) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.lines, "\n")
}

type change struct{ old, new *testConfig }

// changes records OnChange calls.
type changes struct {
	mu   sync.Mutex
	list []change
}

func (c *changes) add(old, new *testConfig) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = append(c.list, change{old, new})
}

func (c *changes) get() []change {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]change(nil), c.list...)
}

type watched struct {
	store   *Store[testConfig]
	logs    *logRecorder
	changes *changes
}

// newWatched opens path and watches it until the test ends; the cleanup
// waits for the watch goroutine so that no test leaks one.
func newWatched(t *testing.T, path string) watched {
	t.Helper()
	s, err := NewStore[testConfig](path)
	require.NoError(t, err)
	w := watched{store: s, logs: &logRecorder{}, changes: &changes{}}
	s.log = slog.New(w.logs)
	s.OnChange(w.changes.add)

	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, s.Watch(ctx))
	t.Cleanup(func() {
		cancel()
		waitStopped(t, s)
	})
	return w
}

func waitStopped(t *testing.T, s *Store[testConfig]) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(waitFor):
		t.Fatal("watch goroutine did not stop after cancel")
	}
}

// kubeletWrite updates dir the way kubelet's AtomicWriter updates a
// ConfigMap volume: the files go into a new timestamped directory, a
// ..data_tmp symlink to it is renamed over ..data, the user-visible
// symlinks into ..data are created if missing, and the previous
// timestamped directory is removed.
func kubeletWrite(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	dataLink := filepath.Join(dir, "..data")
	oldTs, _ := os.Readlink(dataLink)

	tsDir, err := os.MkdirTemp(dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	require.NoError(t, err)
	require.NoError(t, os.Chmod(tsDir, 0o755))
	for name, content := range files {
		writeFile(t, filepath.Join(tsDir, name), content)
	}

	tmpLink := filepath.Join(dir, "..data_tmp")
	require.NoError(t, os.Symlink(filepath.Base(tsDir), tmpLink))
	require.NoError(t, os.Rename(tmpLink, dataLink))

	for name := range files {
		visible := filepath.Join(dir, name)
		if _, err := os.Lstat(visible); os.IsNotExist(err) {
			require.NoError(t, os.Symlink(filepath.Join("..data", name), visible))
		}
	}
	if oldTs != "" {
		require.NoError(t, os.RemoveAll(filepath.Join(dir, oldTs)))
	}
}

func TestKubeletWriteLayout(t *testing.T) {
	dir := t.TempDir()
	kubeletWrite(t, dir, map[string]string{"config.toml": "a"})
	kubeletWrite(t, dir, map[string]string{"config.toml": "b"})

	link, err := os.Readlink(filepath.Join(dir, "config.toml"))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("..data", "config.toml"), link, "user-visible symlink goes through ..data")
	data, err := os.Readlink(filepath.Join(dir, "..data"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(data, "..20"), "..data points at a timestamped dir, got %q", data)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 3, "old timestamped dir removed, no ..data_tmp left")
	got, err := os.ReadFile(filepath.Join(dir, "config.toml"))
	require.NoError(t, err)
	assert.Equal(t, "b", string(got))
}

func TestWatchAppliesHotChange(t *testing.T) {
	updated := replace(`level = "info"`, `level = "debug"`)(
		replace(`features = ["search", "reviews"]`, `features = ["search"]`)(goodTOML))

	tests := []struct {
		name string
		// setup lays out the initial file and returns the path to open
		// and a func that replaces its content.
		setup func(t *testing.T) (path string, update func(content string))
		// inPlace updates truncate before writing; on a loaded machine a
		// reload may read the empty file in between and log a rejection
		// before the write's own event fixes it.
		inPlace bool
	}{
		{
			name: "in-place write",
			setup: func(t *testing.T) (string, func(string)) {
				path := writeTemp(t, goodTOML)
				return path, func(c string) { writeFile(t, path, c) }
			},
			inPlace: true,
		},
		{
			name: "atomic rename of a plain file",
			setup: func(t *testing.T) (string, func(string)) {
				path := writeTemp(t, goodTOML)
				return path, func(c string) {
					tmp := path + ".tmp"
					writeFile(t, tmp, c)
					require.NoError(t, os.Rename(tmp, path))
				}
			},
		},
		{
			name: "kubernetes configmap symlink swap",
			setup: func(t *testing.T) (string, func(string)) {
				dir := t.TempDir()
				kubeletWrite(t, dir, map[string]string{"config.toml": goodTOML, "other.toml": "x = 1"})
				return filepath.Join(dir, "config.toml"), func(c string) {
					kubeletWrite(t, dir, map[string]string{"config.toml": c, "other.toml": "x = 1"})
				}
			},
		},
		{
			name: "symlink to a file in another directory, written in place",
			setup: func(t *testing.T) (string, func(string)) {
				target := writeTemp(t, goodTOML)
				path := filepath.Join(t.TempDir(), "config.toml")
				require.NoError(t, os.Symlink(target, path))
				return path, func(c string) { writeFile(t, target, c) }
			},
			inPlace: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, update := tt.setup(t)
			w := newWatched(t, path)
			before := w.store.Current()
			require.Equal(t, "info", before.Log.Level)

			update(updated)
			eventually(t, func() bool { return w.store.Current().Log.Level == "debug" },
				"hot key log.level applied; logs:\n%s", w.logs)

			now := w.store.Current()
			assert.Equal(t, []string{"search"}, now.Features)
			assert.Equal(t, before.Server, now.Server)
			eventually(t, func() bool { return len(w.changes.get()) > 0 }, "OnChange called")
			got := w.changes.get()
			require.Len(t, got, 1, "one update, one reload")
			assert.Same(t, before, got[0].old)
			assert.Same(t, now, got[0].new)
			if !tt.inPlace {
				assert.False(t, w.logs.has("ERROR"), "logs:\n%s", w.logs)
			}

			// A second update proves the watch survives the first one:
			// kubelet deleted the directory the file was in, and the
			// rename replaced the watched inode.
			update(replace(`level = "info"`, `level = "warn"`)(goodTOML))
			eventually(t, func() bool { return w.store.Current().Log.Level == "warn" },
				"second update applied; logs:\n%s", w.logs)
		})
	}
}

func TestWatchKeepsRestartKeys(t *testing.T) {
	path := writeTemp(t, goodTOML)
	w := newWatched(t, path)
	before := w.store.Current()

	// Only restart keys: nothing to swap, but the operator is told.
	writeFile(t, path, replace(`max_conns = 20`, `max_conns = 50`)(goodTOML))
	eventually(t, func() bool { return w.logs.has(`config: key "db.max_conns" changed; restart to apply`) },
		"restart warning; logs:\n%s", w.logs)
	assert.Same(t, before, w.store.Current(), "no swap without a hot change")
	assert.Empty(t, w.changes.get())

	// Hot and restart keys together, including a hot leaf in a restart
	// table: only the hot ones apply.
	writeFile(t, path, replace(`dsn = "user:pw@tcp(db:3306)/books"`, `dsn = "other"`)(
		replace(`expires = "15m"`, `expires = "20m"`)(
			replace(`currency = "EUR"`, `currency = "USD"`)(
				replace(`level = "info"`, `level = "debug"`)(goodTOML)))))
	eventually(t, func() bool { return w.store.Current().Log.Level == "debug" },
		"hot change applied; logs:\n%s", w.logs)
	now := w.store.Current()
	assert.Equal(t, 20*time.Minute, now.Payment.Expires)
	assert.Equal(t, "user:pw@tcp(db:3306)/books", now.DB.DSN)
	assert.Equal(t, "EUR", now.Payment.Currency)
	assert.Equal(t, 20, now.DB.MaxConns)
	for _, k := range []string{"db.dsn", "payment.currency", "db.max_conns"} {
		assert.True(t, w.logs.has(fmt.Sprintf("config: key %q changed; restart to apply", k)), "warning for %s; logs:\n%s", k, w.logs)
	}
	assert.False(t, w.logs.has("other"), "values must not be logged")
}

func TestWatchRejectsInvalidFile(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(string) string
		wantLog string
	}{
		{"unknown key", replace(`dsn =`, `dnss =`), `config: unknown key "db.dnss"`},
		{"bad value", replace(`port = 8080`, `port = 0`), `config: key "server.port": min=1`},
		{"wrong type", replace(`read_timeout = "5s"`, `read_timeout = 5.5`), `config: key "server.read_timeout"`},
		{"Validate method", replace(`expires = "15m"`, `expires = "25h"`), `config: key "payment.expires": must be at most 24h`},
		{"syntax error", appendText("[log\n"), `config: parse `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTemp(t, goodTOML)
			w := newWatched(t, path)
			before := w.store.Current()

			// The bad file also changes a hot key, which must not leak
			// through.
			writeFile(t, path, tt.edit(replace(`level = "info"`, `level = "debug"`)(goodTOML)))
			eventually(t, func() bool { return w.logs.has(tt.wantLog) }, "error logged; logs:\n%s", w.logs)
			assert.True(t, w.logs.has("ERROR config: new file rejected; keeping current config"), "logs:\n%s", w.logs)
			assert.Same(t, before, w.store.Current())
			assert.Empty(t, w.changes.get())

			// Fixing the file is picked up: the watch survived.
			writeFile(t, path, replace(`level = "info"`, `level = "warn"`)(goodTOML))
			eventually(t, func() bool { return w.store.Current().Log.Level == "warn" }, "fixed file applied; logs:\n%s", w.logs)
		})
	}
}

// TestWatchMixRejectedByValidate covers a new file that is valid as a whole
// but whose hot values break a cross-field rule together with the restart
// values that stay.
func TestWatchMixRejectedByValidate(t *testing.T) {
	path := writeTemp(t, goodTOML)
	s, err := NewStore[mixConfig](path)
	require.NoError(t, err)
	logs := &logRecorder{}
	s.log = slog.New(logs)
	before := s.Current()

	// Both go to 300: valid together, but max_conns needs a restart, so
	// what would run is 300 hot vs 20 kept.
	writeFile(t, path, prepend("idle_conns = 300")(replace(`max_conns = 20`, `max_conns = 300`)(goodTOML)))
	s.check()
	assert.True(t, logs.has("conflict"), "logs:\n%s", logs)
	assert.Same(t, before, s.Current())
}

type mixConfig struct {
	testConfig `mapstructure:",squash"`
	IdleConns  int `mapstructure:"idle_conns" hot:"true"`
}

func (c *mixConfig) Validate() error {
	if c.IdleConns > c.DB.MaxConns {
		return &KeyError{Key: "idle_conns", Err: fmt.Errorf("must be at most db.max_conns")}
	}
	return nil
}

func TestWatchSeesChangeMadeBeforeWatch(t *testing.T) {
	path := writeTemp(t, goodTOML)
	s, err := NewStore[testConfig](path)
	require.NoError(t, err)
	s.log = slog.New(&logRecorder{})
	writeFile(t, path, replace(`level = "info"`, `level = "error"`)(goodTOML))

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); waitStopped(t, s) })
	require.NoError(t, s.Watch(ctx))
	eventually(t, func() bool { return s.Current().Log.Level == "error" }, "change applied")
}

func TestWatchStopsOnCancel(t *testing.T) {
	path := writeTemp(t, goodTOML)
	s, err := NewStore[testConfig](path)
	require.NoError(t, err)
	s.log = slog.New(&logRecorder{})
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, s.Watch(ctx))
	cancel()
	waitStopped(t, s)

	// Nothing is left to notice this.
	before := s.Current()
	writeFile(t, path, replace(`level = "info"`, `level = "debug"`)(goodTOML))
	assert.Same(t, before, s.Current())
}

func TestWatchMissingDir(t *testing.T) {
	path := writeTemp(t, goodTOML)
	s, err := NewStore[testConfig](path)
	require.NoError(t, err)
	require.NoError(t, os.RemoveAll(filepath.Dir(path)))
	require.Error(t, s.Watch(context.Background()))
	waitStopped(t, s)
}

// TestConcurrentReaders swaps configs as fast as possible while readers
// check they never see a mix of two files; -race checks the rest.
func TestConcurrentReaders(t *testing.T) {
	variant := func(level, format, feature string) string {
		return replace(`level = "info"`, fmt.Sprintf("level = %q", level))(
			replace(`format = "json"`, fmt.Sprintf("format = %q", format))(
				replace(`features = ["search", "reviews"]`, fmt.Sprintf("features = [%q]", feature))(goodTOML)))
	}
	files := []string{variant("debug", "text", "a"), variant("error", "json", "b")}
	consistent := map[string]string{"debug": "text/a", "error": "json/b", "info": "json/search,reviews"}

	path := writeTemp(t, goodTOML)
	w := newWatched(t, path)

	var stop atomic.Bool
	var seen sync.Map
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				c := w.store.Current()
				got := c.Log.Format + "/" + strings.Join(c.Features, ",")
				if consistent[c.Log.Level] != got {
					errs <- fmt.Sprintf("torn read: level %s with %s", c.Log.Level, got)
					return
				}
				seen.Store(c.Log.Level, true)
			}
		})
	}

	sawBoth := func() bool {
		_, debug := seen.Load("debug")
		_, errLevel := seen.Load("error")
		return debug && errLevel
	}
	const swaps = 40
	deadline := time.Now().Add(waitFor)
	for i := 0; i < swaps || !sawBoth() && time.Now().Before(deadline); i++ {
		writeFile(t, path, files[i%2])
		// Reload directly, alongside the watcher, so the test does not
		// wait for the debounce each time.
		w.store.check()
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	assert.True(t, sawBoth(), "readers saw both variants")
	assert.GreaterOrEqual(t, len(w.changes.get()), swaps/2)
}
