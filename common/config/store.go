package config

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Store holds the live config of type T. Its methods are safe for
// concurrent use.
type Store[T any] struct {
	path string // absolute, so a later chdir does not move it
	cur  atomic.Pointer[T]

	mu   sync.Mutex // serializes reloads, so subscribers see them in order
	seen fileState  // the file last read, applied or rejected

	subsMu sync.Mutex
	subs   []func(old, new *T)

	log *slog.Logger   // nil means slog.Default() at the time of logging
	wg  sync.WaitGroup // running watch loops
}

// fileState identifies what a file held, so that the many events a single
// update produces, and events for unrelated files in the directory, cost
// a read and a hash instead of a reload.
type fileState struct {
	real string // path with symlinks resolved: kubelet swaps these
	sum  [sha256.Size]byte
}

func readFile(path string) (fileState, []byte, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fileState{}, nil, err
	}
	data, err := os.ReadFile(real)
	if err != nil {
		return fileState{}, nil, err
	}
	return fileState{real: real, sum: sha256.Sum256(data)}, data, nil
}

// NewStore loads path as [Load] does and returns a Store holding it.
func NewStore[T any](path string) (*Store[T], error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	st, data, err := readFile(abs)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := parse[T](path, data)
	if err != nil {
		return nil, err
	}
	s := &Store[T]{path: abs, seen: st}
	s.cur.Store(c)
	return s, nil
}

// Current returns the live config. It is shared with every other caller,
// so callers must not modify it. Read it again rather than keeping it to
// see hot changes.
func (s *Store[T]) Current() *T { return s.cur.Load() }

// OnChange registers fn to be called after each reload that changed a hot
// key, with the config before and after. Calls happen one at a time on the
// watch goroutine, in reload order, so fn should return quickly.
func (s *Store[T]) OnChange(fn func(old, new *T)) {
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	s.subs = append(s.subs, fn)
}

const (
	// quietPeriod lets the several events of one update (a kubelet swap
	// is about five, an editor's save two or three) end in one reload, and
	// lets an in-place write finish before it is read.
	quietPeriod = 100 * time.Millisecond
	// maxDelay bounds how long a steady stream of events in the directory
	// (another file being written there) can hold a reload back.
	maxDelay = time.Second
)

// Watch watches the file until ctx is done, reloading it on change as the
// package documentation describes. It returns once the watch is set up;
// the watching goroutine ends soon after ctx is done.
//
// The directory is watched rather than the file: editors and kubelet
// replace the file instead of writing it, and a watch on the file itself
// would end with the first replacement.
func (s *Store[T]) Watch(ctx context.Context) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("config: watch: %w", err)
	}
	w := &dirWatcher{w: fw, dir: filepath.Dir(s.path), log: s.logger()}
	if err := fw.Add(w.dir); err != nil {
		fw.Close()
		return fmt.Errorf("config: watch %s: %w", w.dir, err)
	}
	s.mu.Lock()
	real := s.seen.real
	s.mu.Unlock()
	// Before returning, so that a write right after Watch is seen.
	w.follow(real)

	s.wg.Add(1)
	go s.watch(ctx, w)
	return nil
}

// dirWatcher watches the config file's directory and, when the file is a
// symlink into another directory, that one too: writes to the target are
// only seen there. (Not needed for the ConfigMap layout, whose target sits
// below dir and is only ever replaced, but harmless.)
type dirWatcher struct {
	w       *fsnotify.Watcher
	dir     string
	realDir string // "" when the file resolves into dir
	log     *slog.Logger
}

func (w *dirWatcher) follow(real string) {
	rd := filepath.Dir(real)
	if real == "" || rd == w.realDir || (rd == w.dir && w.realDir == "") {
		return
	}
	if w.realDir != "" {
		// Fails when the directory is already gone (kubelet deletes
		// the old one), which is fine.
		_ = w.w.Remove(w.realDir)
		w.realDir = ""
	}
	if rd == w.dir {
		return
	}
	if err := w.w.Add(rd); err != nil {
		w.log.Warn("config: cannot watch config file's directory", "dir", rd, "err", err)
		return
	}
	w.realDir = rd
}

func (s *Store[T]) watch(ctx context.Context, w *dirWatcher) {
	defer s.wg.Done()
	defer w.w.Close()

	// Start with a check, to catch a change made between NewStore and
	// Watch, but debounced like any event in case that change is a write
	// still in progress.
	first := time.Now()
	timer := time.NewTimer(quietPeriod)
	defer timer.Stop()
	fire := timer.C
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-w.w.Events:
			if !ok {
				return
			}
			now := time.Now()
			if fire == nil {
				first = now
			}
			timer.Reset(min(quietPeriod, max(first.Add(maxDelay).Sub(now), 0)))
			fire = timer.C
		case err, ok := <-w.w.Errors:
			if !ok {
				return
			}
			s.logger().Warn("config: watch error", "path", s.path, "err", err)
		case <-fire:
			fire = nil
			w.follow(s.check())
		}
	}
}

// check reloads if the file changed since it was last read and returns its
// resolved path.
func (s *Store[T]) check() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, data, err := readFile(s.path)
	if err != nil {
		// The file may be missing for a moment in a non-atomic update;
		// the event that brings it back retries.
		s.logger().Warn("config: cannot read file; keeping current config", "path", s.path, "err", err)
		return s.seen.real
	}
	if st == s.seen {
		return st.real
	}
	// Remember a rejected file too, so it is reported once, not on every
	// unrelated event.
	s.seen = st
	s.reload(data)
	return st.real
}

func (s *Store[T]) reload(data []byte) {
	log := s.logger()
	next, err := parse[T](s.path, data)
	if err != nil {
		log.Error("config: new file rejected; keeping current config", "path", s.path, "err", err)
		return
	}
	old := s.cur.Load()
	merged := new(T)
	var d diff
	merge(reflect.ValueOf(merged).Elem(), reflect.ValueOf(old).Elem(), reflect.ValueOf(next).Elem(), "", &d)
	for _, k := range d.restart {
		log.Warn(fmt.Sprintf("config: key %q changed; restart to apply", k), "key", k, "path", s.path)
	}
	if len(d.hot) == 0 {
		return
	}
	// The new file was valid as a whole, but what will run is its hot
	// values with the old restart values; a cross-field rule in Validate
	// may reject that mix.
	if err := validate(merged); err != nil {
		log.Error("config: new hot values conflict with values that need a restart; keeping current config", "path", s.path, "err", err)
		return
	}
	s.cur.Store(merged)
	log.Info("config: reloaded", "path", s.path, "keys", d.hot)

	s.subsMu.Lock()
	subs := slices.Clone(s.subs)
	s.subsMu.Unlock()
	for _, fn := range subs {
		fn(old, merged)
	}
}

func (s *Store[T]) logger() *slog.Logger {
	if s.log != nil {
		return s.log
	}
	return slog.Default()
}
