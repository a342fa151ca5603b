package proctest

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const subject = "./testdata/readyserver"

func TestBuildOncePerProcess(t *testing.T) {
	var wg sync.WaitGroup
	paths := make([]string, 4)
	for i := range paths {
		wg.Go(func() { paths[i] = Build(t, subject) })
	}
	wg.Wait()
	for _, p := range paths[1:] {
		if p != paths[0] {
			t.Fatalf("builds of one package gave different binaries: %q", paths)
		}
	}
	if !strings.HasPrefix(paths[0], os.TempDir()) || filepath.Base(paths[0]) != "readyserver" {
		t.Errorf("binary %q not under %s or misnamed", paths[0], os.TempDir())
	}
	if _, err := os.Stat(paths[0]); err != nil {
		t.Fatal(err)
	}
}

func TestStartStopRestart(t *testing.T) {
	bin := Build(t, subject)
	addr := FreeAddr(t)
	dir := t.TempDir()
	p := Start(t, bin, Options{
		Env:      []string{"ADDR=" + addr, "GREETING=hello", "EXIT_CODE=7"},
		Dir:      dir,
		ReadyURL: "http://" + addr + "/readyz",
	})
	pid := p.PID()
	if pid == 0 || !p.Running() {
		t.Fatal("not running after Start")
	}
	if err := p.Start(); err == nil {
		t.Error("second Start of a running process succeeded")
	}
	if code := p.Stop(); code != 7 {
		t.Errorf("Stop returned %d, want the process's exit code 7", code)
	}
	if p.Running() {
		t.Error("still running after Stop")
	}
	if _, err := http.Get("http://" + addr + "/readyz"); err == nil {
		t.Error("server still answers after Stop")
	}

	// Restart with the same environment, then crash it.
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if p.PID() == pid {
		t.Error("restart kept the old pid")
	}
	p.Kill()
	if p.Running() {
		t.Error("still running after Kill")
	}
	if code := p.Stop(); code != -1 {
		t.Errorf("Stop of a stopped process = %d, want -1", code)
	}

	out := p.Output()
	if n := strings.Count(out, "greeting=hello wd="+dir); n != 2 {
		t.Errorf("want the greeting with working dir twice (two runs), got %d in:\n%s", n, out)
	}
	if !strings.Contains(out, "got SIGTERM") || !strings.Contains(out, "signal: killed") {
		t.Errorf("output lacks the graceful stop or the kill:\n%s", out)
	}
}

func TestStartFailsWhenProcessExitsBeforeReady(t *testing.T) {
	bin := Build(t, subject)
	addr := FreeAddr(t)
	p := New(t, bin, Options{
		Env:          []string{"ADDR=" + addr, "FAIL_FAST=1"},
		ReadyURL:     "http://" + addr + "/readyz",
		ReadyTimeout: 10 * time.Second,
	})
	start := time.Now()
	err := p.Start()
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") {
		t.Fatalf("Start = %v, want an early-exit error", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("early exit noticed only after %v", time.Since(start))
	}
	if !strings.Contains(err.Error(), "failing fast") {
		t.Errorf("error does not carry the process output: %v", err)
	}
}

func TestStartTimesOutAndKills(t *testing.T) {
	bin := Build(t, subject)
	addr := FreeAddr(t)
	p := New(t, bin, Options{
		Env:      []string{"ADDR=" + addr},
		ReadyURL: "http://" + addr + "/nope", // 404 forever
		// Long enough for the subject to start and answer 404 on a loaded
		// machine: the error must name that last answer.
		ReadyTimeout: 5 * time.Second,
	})
	if err := p.Start(); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("Start = %v, want a timeout naming the last answer", err)
	}
	if p.Running() {
		t.Error("process left running after a readiness timeout")
	}
}

func TestFreeAddrIsBindable(t *testing.T) {
	ln, err := net.Listen("tcp", FreeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
}
