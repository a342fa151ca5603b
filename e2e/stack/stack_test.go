package stack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFailedStartSaysWhy: a service that exits before it is ready fails
// Start with its last lines of output, and a lost port is recognised as
// such (Start then retries on new ports).
func TestFailedStartSaysWhy(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) *Proc {
		bin := filepath.Join(dir, name)
		if err := os.WriteFile(bin, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
		addr, err := FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		return &Proc{Name: name, bin: bin, dir: dir, AdminAddr: addr, log: &strings.Builder{}}
	}
	ctx := context.Background()

	p := script("taken", "for i in $(seq 30); do echo line $i; done\n"+
		"echo 'listen tcp 127.0.0.1:8830: bind: address already in use'\nexit 1\n")
	err := p.Start(ctx, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), "line 30") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "line 10\n") {
		t.Errorf("more than the last %d lines: %v", tailLines, err)
	}
	if !lostPort(err) {
		t.Errorf("lostPort(%v) = false", err)
	}

	p = script("badconfig", "echo 'config: payment.expires: must be at least 1s'\nexit 1\n")
	err = p.Start(ctx, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "payment.expires") || lostPort(err) {
		t.Fatalf("err = %v, lostPort %v", err, lostPort(err))
	}
}
