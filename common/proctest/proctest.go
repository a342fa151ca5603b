// Package proctest runs real service binaries in tests: it builds a main
// package once per test process, starts it as a child process with
// environment overrides, waits until its readiness URL answers, and stops
// it by PID, gracefully (SIGTERM) or not (SIGKILL), so that tests can crash
// and restart a service as an orchestrator would.
//
// Everything a process printed is kept and logged if the test fails;
// t.Cleanup kills whatever is still running.
package proctest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"example.com/bookstore/common/freeport"
)

// Build compiles the main package pkg and returns the binary's path. pkg is
// a directory ("../../warehouse", "/abs/dir") or an import path resolved from
// the current directory ("example.com/bookstore/warehouse"). Each package is
// built once per test process, however many tests ask; the binary lives
// under os.TempDir() keyed by the package, so test processes of other
// packages building the same one reuse Go's build cache and never see a
// half-written file.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	path, err := build(pkg)
	if err != nil {
		t.Fatalf("proctest: %v", err)
	}
	return path
}

type buildResult struct {
	once sync.Once
	path string
	err  error
}

var builds sync.Map // key -> *buildResult

func build(pkg string) (string, error) {
	tgt, err := resolve(pkg)
	if err != nil {
		return "", err
	}
	v, _ := builds.LoadOrStore(tgt.key, &buildResult{})
	b := v.(*buildResult)
	b.once.Do(func() { b.path, b.err = compile(tgt) })
	return b.path, b.err
}

// target is what to build: `go build <arg>` run in dir, producing a binary
// called name; key identifies it in the caches.
type target struct {
	key, dir, arg, name string
}

func resolve(pkg string) (target, error) {
	if isDir(pkg) {
		abs, err := filepath.Abs(pkg)
		if err != nil {
			return target{}, err
		}
		return target{key: abs, dir: abs, arg: ".", name: filepath.Base(abs)}, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return target{}, err
	}
	return target{key: pkg + " from " + wd, dir: wd, arg: pkg, name: filepath.Base(pkg)}, nil
}

func isDir(pkg string) bool {
	if filepath.IsAbs(pkg) || strings.HasPrefix(pkg, "./") || strings.HasPrefix(pkg, "../") || pkg == "." || pkg == ".." {
		return true
	}
	return false
}

func compile(tgt target) (string, error) {
	key, name := tgt.key, tgt.name
	sum := sha256.Sum256([]byte(key))
	outDir := filepath.Join(os.TempDir(), "proctest", name+"-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", key, err)
	}
	final := filepath.Join(outDir, name)
	// Build under a private name, then rename: another test process may be
	// running the previous binary or building the same one right now.
	tmp, err := os.CreateTemp(outDir, name+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("build %s: %w", key, err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())

	start := time.Now()
	cmd := exec.Command("go", "build", "-o", tmp.Name(), tgt.arg)
	cmd.Dir = tgt.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build %s (in %s): %v\n%s", tgt.arg, tgt.dir, err, out)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", fmt.Errorf("build %s: %w", key, err)
	}
	fmt.Fprintf(os.Stderr, "proctest: built %s in %v\n", key, time.Since(start).Round(time.Millisecond))
	return final, nil
}

// Options describe how to run a binary.
type Options struct {
	// Args are the command-line arguments.
	Args []string
	// Env holds KEY=VALUE overrides on top of the test's own environment.
	Env []string
	// Dir is the working directory; empty means a fresh t.TempDir().
	Dir string
	// ReadyURL is polled with GET until it answers 200; empty means the
	// process counts as ready as soon as it started.
	ReadyURL string
	// ReadyTimeout bounds the wait for ReadyURL (default 30s).
	ReadyTimeout time.Duration
	// StopTimeout bounds Stop's wait after SIGTERM before it sends SIGKILL
	// (default 15s).
	StopTimeout time.Duration
}

// Process is a binary that can be started, stopped and started again with
// the same options.
type Process struct {
	t    testing.TB
	bin  string
	opts Options
	name string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the current run has exited
	out  *lockedBuffer
	runs int
}

// New returns a process for bin that is not started yet.
func New(t testing.TB, bin string, opts Options) *Process {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 30 * time.Second
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 15 * time.Second
	}
	p := &Process{t: t, bin: bin, opts: opts, name: filepath.Base(bin), out: &lockedBuffer{}}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("proctest: output of %s:\n%s", p.name, p.Output())
		}
	})
	return p
}

// Start is New followed by Start, failing the test on error.
func Start(t testing.TB, bin string, opts Options) *Process {
	t.Helper()
	p := New(t, bin, opts)
	if err := p.Start(); err != nil {
		t.Fatalf("proctest: %v", err)
	}
	return p
}

// Start runs the binary (again, after a Stop or Kill) and waits until it is
// ready. It fails if the process is already running, exits before it is
// ready, or is not ready in time (then it is killed).
func (p *Process) Start() error {
	p.mu.Lock()
	if p.cmd != nil {
		p.mu.Unlock()
		return fmt.Errorf("%s is already running (pid %d)", p.name, p.cmd.Process.Pid)
	}
	p.runs++
	fmt.Fprintf(p.out, "--- proctest: start #%d of %s ---\n", p.runs, p.name)
	cmd := exec.Command(p.bin, p.opts.Args...)
	cmd.Dir = p.opts.Dir
	cmd.Env = append(os.Environ(), p.opts.Env...)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	p.mu.Unlock()

	go func() {
		err := cmd.Wait()
		fmt.Fprintf(p.out, "--- proctest: %s (pid %d) exited: %v ---\n", p.name, cmd.Process.Pid, exitText(cmd, err))
		p.mu.Lock()
		if p.cmd == cmd {
			p.cmd = nil
		}
		p.mu.Unlock()
		close(done)
	}()

	if p.opts.ReadyURL == "" {
		return nil
	}
	if err := waitReady(p.opts.ReadyURL, p.opts.ReadyTimeout, done); err != nil {
		p.Kill()
		return fmt.Errorf("%s (pid %d) not ready: %w\n%s", p.name, cmd.Process.Pid, err, p.Output())
	}
	return nil
}

func exitText(cmd *exec.Cmd, err error) string {
	if cmd.ProcessState == nil {
		return fmt.Sprint(err)
	}
	return cmd.ProcessState.String()
}

func waitReady(url string, timeout time.Duration, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		// The request cut short by the deadline says nothing about the
		// process: keep the answer before it, which does.
		if ctx.Err() == nil || last == nil {
			last = err
		}
		select {
		case <-exited:
			return errors.New("exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("not ready within %v: %v", timeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// PID is the process id of the current run, 0 if it is not running.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Running reports whether the process is running.
func (p *Process) Running() bool { return p.PID() != 0 }

// Stop sends SIGTERM and waits for the exit (SIGKILL after StopTimeout). It
// returns the exit code: 0 for a clean shutdown, -1 if a signal ended the
// process. A process that is not running returns -1.
func (p *Process) Stop() int {
	p.t.Helper()
	cmd, done := p.current()
	if cmd == nil {
		return -1
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(p.opts.StopTimeout):
		p.t.Errorf("proctest: %s (pid %d) still running %v after SIGTERM; killing it", p.name, cmd.Process.Pid, p.opts.StopTimeout)
		_ = cmd.Process.Kill()
		<-done
	}
	return cmd.ProcessState.ExitCode()
}

// Kill sends SIGKILL (a crash: no shutdown code runs) and waits for the exit.
func (p *Process) Kill() {
	cmd, done := p.current()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

func (p *Process) current() (*exec.Cmd, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd, p.done
}

// Output returns everything the process printed in all its runs so far.
func (p *Process) Output() string { return p.out.String() }

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago
// (see freeport.Addr). Another process may take it before the caller binds
// it; that is rare enough for tests.
func FreePort(t testing.TB) int {
	t.Helper()
	a, err := freeport.Addr()
	if err != nil {
		t.Fatalf("proctest: free port: %v", err)
	}
	_, p, _ := net.SplitHostPort(a)
	port, _ := strconv.Atoi(p)
	return port
}

// FreeAddr returns "127.0.0.1:<FreePort>".
func FreeAddr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
}
