// Package stack builds and runs the whole store as real processes: the four
// service binaries, each with its own config file, database and ports.
// `make run` uses it with the default ports and a data directory that
// survives restarts; the e2e tests use it with free ports and fresh
// directories, so every test starts from the seed data.
package stack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"example.com/bookstore/common/freeport"
)

// Names lists the services in start order: the gateway needs the others.
var Names = []string{"account", "warehouse", "payment", "gateway"}

// Build compiles the four binaries from the repo at root into binDir.
func Build(ctx context.Context, root, binDir string, race bool) error {
	args := []string{"build", "-o", binDir + string(os.PathSeparator)}
	if race {
		args = append(args, "-race")
	}
	for _, n := range Names {
		args = append(args, "./"+n)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("stack: go build: %v\n%s", err, out)
	}
	return nil
}

// Options says where and how the stack runs.
type Options struct {
	Root    string // repo root: config files are <root>/<svc>/conf/config.toml
	BinDir  string // where Build put the binaries
	DataDir string // SQLite files go here (created)
	// FreePorts gives every listener a free loopback port instead of the
	// config file's; the services are pointed at each other through env.
	FreePorts bool
	// Env adds per-service environment overrides (config keys as env vars,
	// e.g. "PAYMENT_EXPIRES": "2s").
	Env map[string]map[string]string
	// Log receives every process's output, each line prefixed by its name.
	Log io.Writer
	// ReadyTimeout bounds the wait for each service's /readyz.
	ReadyTimeout time.Duration
}

// Stack is a running store.
type Stack struct {
	opts  Options
	procs map[string]*Proc
	// GatewayURL is the base URL of the REST API, e.g. http://127.0.0.1:8080.
	GatewayURL string
}

// Proc is one running service process.
type Proc struct {
	Name      string
	Addr      string // the RPC (or, for the gateway, HTTP) listen address
	AdminAddr string
	bin       string
	dir       string
	env       []string
	log       io.Writer

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	tail []string // the last lines of output, for the error of a failed start
}

// tailLines is how much of a process's output a failed start reports.
const tailLines = 15

// defaultAddrs are the local ports of the config files, used when
// FreePorts is off: they must agree with <svc>/conf/config.toml.
var defaultAddrs = map[string][2]string{
	"account":   {"127.0.0.1:8810", "127.0.0.1:9810"},
	"warehouse": {"127.0.0.1:8820", "127.0.0.1:9820"},
	"payment":   {"127.0.0.1:8830", "127.0.0.1:9830"},
	"gateway":   {"127.0.0.1:8080", "127.0.0.1:9080"},
}

// Start starts every service in order and waits until each is ready.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 60 * time.Second
	}
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, err
	}
	addrs := map[string][2]string{}
	s := &Stack{opts: opts, procs: map[string]*Proc{}}
	for _, n := range Names {
		// A free port is only free until someone takes it (another test's
		// service, say): a service that lost its port exits at once, and
		// is started again on new ones, a few times, before Start fails.
		var err error
		for try := 0; try < 4; try++ {
			if addrs[n], err = opts.addrsOf(n); err != nil {
				break
			}
			s.procs[n] = newProc(opts, n, addrs)
			err = s.procs[n].Start(ctx, opts.ReadyTimeout)
			if err == nil || !opts.FreePorts || !lostPort(err) {
				break
			}
		}
		if err != nil {
			s.Stop()
			return nil, err
		}
	}
	s.GatewayURL = "http://" + addrs["gateway"][0]
	return s, nil
}

// addrsOf returns the RPC (or HTTP) and admin addresses for service n.
func (o Options) addrsOf(n string) ([2]string, error) {
	if !o.FreePorts {
		return defaultAddrs[n], nil
	}
	a, err := FreeAddr()
	if err != nil {
		return [2]string{}, err
	}
	b, err := FreeAddr()
	return [2]string{a, b}, err
}

// newProc describes service n, pointed at the services started before it.
func newProc(o Options, n string, addrs map[string][2]string) *Proc {
	env := map[string]string{
		"CONFIG_PATH":       filepath.Join(o.Root, n, "conf", "config.toml"),
		"SERVER_ADDR":       addrs[n][0],
		"SERVER_ADMIN_ADDR": addrs[n][1],
	}
	if n != "gateway" {
		env["DB_DSN"] = filepath.Join(o.DataDir, n+".db")
	}
	switch n {
	case "payment":
		env["CLIENTS_WAREHOUSE_ADDR"] = addrs["warehouse"][0]
	case "gateway":
		env["CLIENTS_ACCOUNT_ADDR"] = addrs["account"][0]
		env["CLIENTS_WAREHOUSE_ADDR"] = addrs["warehouse"][0]
		env["CLIENTS_PAYMENT_ADDR"] = addrs["payment"][0]
	}
	for k, v := range o.Env[n] {
		env[k] = v
	}
	p := &Proc{
		Name: n, Addr: addrs[n][0], AdminAddr: addrs[n][1],
		bin: filepath.Join(o.BinDir, n), dir: o.Root, log: o.Log,
	}
	for k, v := range env {
		p.env = append(p.env, k+"="+v)
	}
	return p
}

// exitError is a service that exited before it was ready, with the last
// lines it wrote: the reason is usually there.
type exitError struct {
	name string
	err  error
	tail string
}

func (e *exitError) Error() string {
	return fmt.Sprintf("stack: %s exited before it was ready: %v; its last output:\n%s", e.name, e.err, e.tail)
}

// lostPort says whether a start failed because its port was taken.
func lostPort(err error) bool {
	var e *exitError
	return errors.As(err, &e) && strings.Contains(e.tail, "address already in use")
}

// Proc returns the named service's process (for fault-injection tests).
func (s *Stack) Proc(name string) *Proc { return s.procs[name] }

// Stop stops every service, gateway first, and waits for them to exit.
func (s *Stack) Stop() error {
	var errs []error
	for i := len(Names) - 1; i >= 0; i-- {
		if p := s.procs[Names[i]]; p != nil {
			if err := p.Stop(15 * time.Second); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Start runs the process (again, after Stop or Kill) and waits for /readyz.
func (p *Proc) Start(ctx context.Context, readyTimeout time.Duration) error {
	p.mu.Lock()
	cmd := exec.Command(p.bin)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), p.env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		p.mu.Unlock()
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("stack: start %s: %w", p.Name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.err, p.tail = cmd, done, nil, nil
	p.mu.Unlock()

	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintf(p.log, "%-9s | %s\n", p.Name, line)
			p.mu.Lock()
			if len(p.tail) == tailLines {
				p.tail = p.tail[1:]
			}
			p.tail = append(p.tail, line)
			p.mu.Unlock()
		}
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(done)
	}()
	return p.waitReady(ctx, readyTimeout, done)
}

func (p *Proc) waitReady(ctx context.Context, timeout time.Duration, done <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	url := "http://" + p.AdminAddr + "/readyz"
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			p.mu.Lock()
			defer p.mu.Unlock()
			return &exitError{name: p.Name, err: p.err, tail: strings.Join(p.tail, "\n")}
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stack: %s not ready at %s after %s", p.Name, url, timeout)
		}
	}
}

// Stop sends SIGTERM and waits up to grace for a clean exit, then SIGKILL.
// A clean exit (status 0) returns nil.
func (p *Proc) Stop(grace time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-done:
		return nil // already gone (killed by a test)
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("stack: %s did not stop within %s", p.Name, grace)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return fmt.Errorf("stack: %s exited: %w", p.Name, p.err)
	}
	return nil
}

// PID is the running process's id, 0 when it is not running (for tests that
// watch its memory).
func (p *Proc) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	select {
	case <-p.done:
		return 0
	default:
	}
	return p.cmd.Process.Pid
}

// Kill ends the process with SIGKILL (a crash) and waits for it.
func (p *Proc) Kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr() (string, error) { return freeport.Addr() }

// RepoRoot finds the repository root (the directory holding go.work) from dir upwards.
func RepoRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("stack: no go.work above " + dir)
		}
	}
}

// syncWriter lets several processes' log goroutines share one writer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// SyncWriter serialises writes to w from several goroutines.
func SyncWriter(w io.Writer) io.Writer { return &syncWriter{w: w} }

func (p *syncWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.w.Write(b)
}
