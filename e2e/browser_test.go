package e2e

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// browserExpiry is the payment expiry of the browser test's stack: short,
// so that the test can watch a payment time out, and long enough for a
// browser to settle and pay before it does.
const browserExpiry = 5 * time.Second

// TestBrowser runs the Playwright suite in e2e/browser (node's test runner,
// playwright-core, Debian's Chromium) against a fresh stack: a shopper
// browses, registers, logs in, fills a cart, settles and meets the payment
// page; the administrator buys, pays and sees the stock drop in the
// warehouse view; a payment left alone expires; the API browser logs in
// through "Authorize". Screenshots land in e2e/browser/artifacts.
//
// Missing prerequisites are installed by e2e/browser/setup.sh (Chromium
// from apt, the npm packages with npm ci). Only when that fails is the test
// skipped, with the reason.
func TestBrowser(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(repoRoot, "e2e", "browser")
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if !browserReady(dir, chromium) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		out, err := runSetup(ctx, dir)
		cancel()
		if err != nil || !browserReady(dir, chromium) {
			t.Skipf("SKIP browser tests: Chromium (%s), node or the npm packages of e2e/browser are missing and "+
				"e2e/browser/setup.sh could not install them (%v):\n%s", chromium, err, out)
		}
	}

	s := startStack(t, map[string]map[string]string{
		"payment": {
			"PAYMENT_EXPIRES":        browserExpiry.String(),
			"PAYMENT_SWEEP_INTERVAL": "200ms",
		},
	})

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", "--test-concurrency=1", "storefront.test.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"BOOKSTORE_URL="+s.GatewayURL,
		"CHROMIUM="+chromium,
		"ARTIFACTS_DIR="+filepath.Join(dir, "artifacts"),
		"PAYMENT_EXPIRES_MS="+strconv.FormatInt(browserExpiry.Milliseconds(), 10),
	)
	// node and the Chromium it starts share a process group, which a
	// timeout ends as a whole: no browser outlives the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		t.Log(sc.Text())
	}
	err = cmd.Wait()
	t.Logf("browser suite finished in %s", time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("browser suite failed: %v (screenshots in %s)", err, filepath.Join(dir, "artifacts"))
	}
}

// browserReady reports whether node, Chromium and the npm packages are there.
func browserReady(dir, chromium string) bool {
	if _, err := exec.LookPath("node"); err != nil {
		return false
	}
	if st, err := os.Stat(chromium); err != nil || st.IsDir() {
		return false
	}
	for _, pkg := range []string{"playwright-core", "axe-core"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			return false
		}
	}
	return true
}

func runSetup(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(dir, "setup.sh"))
	cmd.Dir = dir
	var buf strings.Builder
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = errors.Join(err, ctx.Err())
	}
	return tail(buf.String(), 40), err
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
