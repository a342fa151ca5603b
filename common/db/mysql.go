package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-sql-driver/mysql"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
)

// Retry schedule of Open while the MySQL server is unreachable.
const (
	mysqlFirstBackoff = 250 * time.Millisecond
	mysqlMaxBackoff   = 5 * time.Second
	// Dial timeout per connection attempt when the DSN sets none: an
	// unroutable host must not eat the whole ConnectTimeout in one attempt.
	mysqlDialTimeout = 5 * time.Second
)

// mysqlConfig parses a go-sql-driver DSN and forces the settings every
// service relies on: parseTime (DATETIME scans into time.Time), loc=UTC (the
// same instants as SQLite and as gorm's NowFunc), and charset utf8mb4 (MySQL's
// "utf8" cannot store 4-byte characters such as emoji).
func mysqlConfig(dsn string) (*mysql.Config, error) {
	c, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("db: mysql dsn: %w", err)
	}
	if c.DBName == "" {
		return nil, errors.New("db: mysql dsn: no database name (want user:pass@tcp(host:port)/dbname)")
	}
	c.ParseTime = true
	c.Loc = time.UTC
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	c.Params["charset"] = "utf8mb4"
	if c.Timeout == 0 {
		c.Timeout = mysqlDialTimeout
	}
	// The driver's own messages (e.g. "unexpected EOF" on a connection the
	// server closed) go to slog instead of the standard logger on stderr.
	c.Logger = mysqlLogger{}
	return c, nil
}

type mysqlLogger struct{}

func (mysqlLogger) Print(v ...any) {
	slog.Default().Warn("mysql driver: "+fmt.Sprint(v...), "component", "db")
}

// describe names the server and database for logs and errors; never the password.
func describe(c *mysql.Config) string {
	return fmt.Sprintf("%s@%s(%s)/%s", c.User, c.Net, c.Addr, c.DBName)
}

func openMySQL(ctx context.Context, cfg Config) (*gorm.DB, error) {
	c, err := mysqlConfig(cfg.DSN)
	if err != nil {
		return nil, err
	}
	connector, err := mysql.NewConnector(c)
	if err != nil {
		return nil, fmt.Errorf("db: mysql: %w", err)
	}
	sqlDB := sql.OpenDB(connector)
	if err := waitForMySQL(ctx, sqlDB, c, cfg.ConnectTimeout); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	gdb, err := gorm.Open(gormmysql.New(gormmysql.Config{Conn: sqlDB, DSNConfig: c}), gormConfig())
	if err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("db: mysql %s: %w", describe(c), err)
	}
	if err := applyPool(gdb, cfg, DefaultMySQLMaxOpenConns, DefaultMySQLMaxIdleConns, DefaultMySQLConnMaxLifetime); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("db: mysql: %w", err)
	}
	return gdb, nil
}

// waitForMySQL pings until the server answers, retrying with exponential
// backoff until timeout (DefaultConnectTimeout if 0) or ctx ends. Every error
// is retried, including access denied and unknown database: in a cluster the
// user and database may be provisioned by a job that runs after the service
// starts; a real misconfiguration still fails, after the timeout, with the
// last error.
func waitForMySQL(ctx context.Context, sqlDB *sql.DB, c *mysql.Config, timeout time.Duration) error {
	if timeout == 0 {
		timeout = DefaultConnectTimeout
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	backoff := mysqlFirstBackoff
	var lastErr error
	for attempt := 1; ; attempt++ {
		err := sqlDB.PingContext(ctx)
		if err == nil {
			if attempt > 1 {
				slog.Default().Info("db: mysql reachable", "component", "db", "db", describe(c),
					"attempts", attempt, "waited", time.Since(start).Round(time.Millisecond).String())
			}
			return nil
		}
		// When ctx ends mid-ping the error is just "context deadline exceeded";
		// keep the previous, more telling one (e.g. connection refused).
		if ctx.Err() == nil || lastErr == nil {
			lastErr = err
		}
		if ctx.Err() == nil {
			slog.Default().Warn("db: mysql not reachable yet, retrying", "component", "db", "db", describe(c),
				"attempt", attempt, "retry_in", backoff.String(), "err", err)
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
			backoff = min(2*backoff, mysqlMaxBackoff)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("db: mysql %s unreachable: gave up after %d attempts in %s (connect_timeout %s): %w: %w",
				describe(c), attempt, time.Since(start).Round(time.Millisecond), timeout, ctx.Err(), lastErr)
		}
	}
}
