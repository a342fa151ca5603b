package db

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMySQLConfig(t *testing.T) {
	c, err := mysqlConfig("app:s3cret@tcp(db:3306)/account")
	require.NoError(t, err)
	assert.True(t, c.ParseTime)
	assert.Equal(t, time.UTC, c.Loc)
	assert.Equal(t, "utf8mb4", c.Params["charset"])
	assert.Equal(t, mysqlDialTimeout, c.Timeout)
	assert.Equal(t, "account", c.DBName)
	assert.Equal(t, "app@tcp(db:3306)/account", describe(c), "no password in logs")

	// Explicit contrary settings are overridden; other parameters are kept.
	c, err = mysqlConfig("app@tcp(db)/account?parseTime=false&loc=Local&charset=latin1&timeout=2s&sql_mode=ANSI")
	require.NoError(t, err)
	assert.True(t, c.ParseTime)
	assert.Equal(t, time.UTC, c.Loc)
	assert.Equal(t, "utf8mb4", c.Params["charset"])
	assert.Equal(t, 2*time.Second, c.Timeout)
	assert.Equal(t, "ANSI", c.Params["sql_mode"])
	dsn := c.FormatDSN()
	for _, want := range []string{"parseTime=true", "charset=utf8mb4", "sql_mode=ANSI"} {
		assert.Contains(t, dsn, want)
	}
	assert.NotContains(t, dsn, "loc=", "UTC is the driver's default, so FormatDSN omits it")

	for _, bad := range []string{"not a dsn", "app@tcp(db)/", "app@tcp(db)/x?loc=Nowhere/Never"} {
		_, err := mysqlConfig(bad)
		assert.Error(t, err, bad)
	}
}

// closedPort returns a loopback address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// captureSlog redirects slog.Default() for the duration of the test (so such
// tests must not run in parallel).
func captureSlog(t *testing.T) *syncBuffer {
	t.Helper()
	buf := &syncBuffer{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })
	return buf
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestOpenMySQLGivesUpAfterConnectTimeout(t *testing.T) {
	logs := captureSlog(t)
	addr := closedPort(t)
	start := time.Now()
	gdb, err := Open(context.Background(), Config{
		Driver: DriverMySQL, DSN: "app:s3cret@tcp(" + addr + ")/account", ConnectTimeout: 1500 * time.Millisecond,
	})
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.Nil(t, gdb)
	assert.GreaterOrEqual(t, elapsed, 1400*time.Millisecond, "kept retrying until connect_timeout")
	assert.Less(t, elapsed, 5*time.Second)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED, "the last real error is kept: %v", err)
	assert.Contains(t, err.Error(), addr)
	assert.NotContains(t, err.Error(), "s3cret")

	// 250ms, 500ms, 1s backoff: at least 3 retries logged within 1.5s.
	retries := strings.Count(logs.String(), "mysql not reachable yet")
	assert.GreaterOrEqual(t, retries, 3, logs.String())
	assert.NotContains(t, logs.String(), "s3cret")
}

func TestOpenMySQLStopsWhenContextEnds(t *testing.T) {
	captureSlog(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	_, err := Open(ctx, Config{Driver: DriverMySQL, DSN: "app@tcp(" + closedPort(t) + ")/account"}) // default 60s timeout
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 3*time.Second)
}

func TestMySQLLoggerGoesToSlog(t *testing.T) {
	logs := captureSlog(t)
	mysqlLogger{}.Print("packets.go:58 ", errors.New("unexpected EOF"))
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "mysql driver: packets.go:58 unexpected EOF")
}
