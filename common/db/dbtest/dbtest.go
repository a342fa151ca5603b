// Package dbtest gives each test a brand-new, empty database of the kind the
// whole test process uses: MySQL/MariaDB when BOOKSTORE_TEST_MYSQL_DSN is set
// (CI sets it, see hack/mariadb.sh), else an SQLite file in t.TempDir().
//
// So the same service tests run against SQLite on a laptop with nothing
// installed and against MariaDB in CI, where they must not be skipped: with
// the variable set, an unreachable server fails the test.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"example.com/bookstore/common/db"
)

// EnvMySQLDSN names the environment variable holding a go-sql-driver DSN of a
// MySQL/MariaDB server, without a database name, whose user may create and
// drop databases, e.g.
//
//	root@tcp(127.0.0.1:3307)/?charset=utf8mb4&parseTime=True&loc=UTC
const EnvMySQLDSN = "BOOKSTORE_TEST_MYSQL_DSN"

// Kinds returned by Kind.
const (
	KindMySQL  = "mysql"
	KindSQLite = "sqlite"
)

// Kind returns "mysql" or "sqlite": which kind the tests of this process use.
func Kind() string {
	if os.Getenv(EnvMySQLDSN) != "" {
		return KindMySQL
	}
	return KindSQLite
}

// Config returns a db.Config for a brand-new empty database for this test: a
// MySQL database created on the server of BOOKSTORE_TEST_MYSQL_DSN (named
// t_<random>, dropped in t.Cleanup) when that env var is set, else an SQLite
// file under t.TempDir().
func Config(t testing.TB) db.Config {
	t.Helper()
	if Kind() == KindMySQL {
		return mysqlConfig(t)
	}
	if os.Getenv("CI") == "true" {
		// CI starts MariaDB for exactly these tests: falling back to SQLite
		// there would lose the MySQL coverage without anyone noticing.
		t.Fatalf("dbtest: CI=true but %s is not set", EnvMySQLDSN)
	}
	path := filepath.Join(t.TempDir(), "test.db")
	announce(t, fmt.Sprintf("dbtest: using sqlite database %s", path))
	return db.Config{Driver: db.DriverSQLite, DSN: path}
}

// Open is Config + db.Open; the *gorm.DB is closed in t.Cleanup.
func Open(t testing.TB) *gorm.DB {
	t.Helper()
	cfg := Config(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gdb, err := db.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("dbtest: open %s database: %v", cfg.Driver, err)
	}
	// Registered after Config's cleanup, so it runs before it (cleanups are
	// LIFO): the pool is closed before its MySQL database is dropped.
	t.Cleanup(func() {
		if err := db.Close(gdb); err != nil {
			t.Errorf("dbtest: close: %v", err)
		}
	})
	return gdb
}

var announceOnce sync.Once

// announce logs line to the test and, the first time in this process, to
// stderr, so that CI logs show which database kind the tests really used.
func announce(t testing.TB, line string) {
	t.Helper()
	t.Log(line)
	announceOnce.Do(func() { fmt.Fprintln(os.Stderr, line) })
}

// server is the process-wide admin connection to the MySQL server, opened on
// first use. Its error is kept so that, with the server down, every test
// fails at once with the same message instead of each waiting for a timeout.
var server struct {
	once sync.Once
	cfg  *mysql.Config // parsed env DSN, without a database
	db   *sql.DB
	err  error
}

// adminTimeout bounds reaching the server: it is supposed to be up already.
const adminTimeout = 10 * time.Second

func mysqlServer() (*mysql.Config, *sql.DB, error) {
	server.once.Do(func() {
		dsn := os.Getenv(EnvMySQLDSN)
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			server.err = fmt.Errorf("parse %s: %w", EnvMySQLDSN, err)
			return
		}
		if cfg.DBName != "" {
			server.err = fmt.Errorf("%s must not name a database (got %q): tests create their own", EnvMySQLDSN, cfg.DBName)
			return
		}
		cfg.Timeout = adminTimeout
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			server.err = err
			return
		}
		sqlDB := sql.OpenDB(conn)
		sqlDB.SetMaxIdleConns(2)
		ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
		defer cancel()
		if err := sqlDB.PingContext(ctx); err != nil {
			_ = sqlDB.Close()
			server.err = fmt.Errorf("server %s (from %s) unreachable: %w", cfg.Addr, EnvMySQLDSN, err)
			return
		}
		server.cfg, server.db = cfg, sqlDB
	})
	return server.cfg, server.db, server.err
}

func mysqlConfig(t testing.TB) db.Config {
	t.Helper()
	srvCfg, admin, err := mysqlServer()
	if err != nil {
		// Fatal, not Skip: with the variable set, MySQL coverage is expected.
		t.Fatalf("dbtest: %v", err)
	}
	name := "t_" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	// Explicit charset: tables must be utf8mb4 whatever the server default.
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("dbtest: create database %s on %s: %v", name, srvCfg.Addr, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("dbtest: drop database %s: %v", name, err)
		}
	})
	announce(t, fmt.Sprintf("dbtest: using mysql database %s on %s", name, srvCfg.Addr))

	cfg := srvCfg.Clone()
	cfg.DBName = name
	return db.Config{
		Driver: db.DriverMySQL,
		DSN:    cfg.FormatDSN(),
		// Tests run in parallel, packages too: keep each test's pool modest so
		// that they fit in the server's max_connections (151 by default).
		MaxOpenConns:   10,
		ConnectTimeout: adminTimeout,
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b)
}
