// Package db opens the one database each service owns, through gorm, in one of
// two flavours chosen by config: SQLite (pure Go, a file; for local runs and
// tests) or MySQL/MariaDB (in the cluster). Services write portable gorm code;
// this package hides the per-driver settings needed to make both behave the
// same under concurrency (see Open).
//
// Rules for service code, valid on both drivers:
//   - Read-modify-write in a transaction reads the row with
//     tx.Clauses(clause.Locking{Strength: "UPDATE"}) (SELECT ... FOR UPDATE).
//     MySQL needs it, or concurrent transactions lose updates; the SQLite
//     dialect drops the clause, as there every read-write transaction already
//     holds the database's write lock from BEGIN on.
//   - Or, better, a single conditional statement:
//     UPDATE ... SET n = n - ? WHERE id = ? AND n >= ?, checking RowsAffected.
//   - Write transactions go through db.Transaction(ctx, gdb, func(tx) ...):
//     on SQLite it commits the transactions of concurrent callers together
//     (group.go), on MySQL it is gorm's Transaction.
//   - Inside it use only tx: a write through the outer *gorm.DB would wait
//     for the lock the transaction holds (SQLite: until busy_timeout, then
//     fail; MySQL: until the lock wait timeout).
//   - A race on a unique index surfaces as an error for which
//     IsUniqueViolation is true.
//   - Times are stored and returned in UTC, at millisecond precision for
//     gorm's automatic CreatedAt/UpdatedAt.
package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Config is the [db] section of every service's config.toml (mapstructure tags, snake_case).
//
// Zero values mean "use the default for the driver" (see the Default* constants),
// so a config file normally sets only driver and dsn.
type Config struct {
	Driver string `mapstructure:"driver" validate:"oneof=sqlite mysql"`
	// DSN, for sqlite: a file path (parent directories are created), optionally
	// followed by ?query for extra modernc.org/sqlite parameters;
	// for mysql: a go-sql-driver DSN such as user:pass@tcp(host:3306)/dbname.
	DSN             string        `mapstructure:"dsn" validate:"required"`
	MaxOpenConns    int           `mapstructure:"max_open_conns" validate:"gte=0"`
	MaxIdleConns    int           `mapstructure:"max_idle_conns" validate:"gte=0"`
	ConnMaxLifetime time.Duration `mapstructure:"conn_max_lifetime"`
	// ConnectTimeout is how long Open keeps retrying an unreachable MySQL server.
	ConnectTimeout time.Duration `mapstructure:"connect_timeout"`
}

// Driver names accepted in Config.Driver.
const (
	DriverSQLite = "sqlite"
	DriverMySQL  = "mysql"
)

// Defaults applied by Open for zero Config fields.
const (
	// DefaultConnectTimeout: a service started together with its database
	// (e.g. a fresh cluster) waits this long for it instead of crash-looping.
	DefaultConnectTimeout = 60 * time.Second

	// SQLite: a small pool. Readers run in parallel thanks to WAL; writers are
	// serialised (BEGIN IMMEDIATE, queued in the process by the write gate of
	// sqlite_gate.go, and by busy_timeout across processes), so more
	// connections would only add lock contention.
	DefaultSQLiteMaxOpenConns = 4

	// MySQL: enough for a small service; MariaDB's default max_connections is 151
	// and several services/replicas may share one server.
	DefaultMySQLMaxOpenConns = 20
	DefaultMySQLMaxIdleConns = 10
	// Below any server/proxy idle timeout (MariaDB wait_timeout is 8h, but
	// load balancers and proxies often cut much earlier), and short enough that
	// the pool re-resolves DNS after a database failover.
	DefaultMySQLConnMaxLifetime = 5 * time.Minute
)

// Open opens the database described by cfg and checks that it answers.
//
// For MySQL it retries (with backoff, logged via slog) until
// cfg.ConnectTimeout (default DefaultConnectTimeout) or ctx ends, so a
// service started before its database waits for it. ctx bounds only Open,
// not the lifetime of the returned *gorm.DB.
//
// The returned *gorm.DB logs through slog.Default() at warn level only:
// failed queries (except record-not-found and unique violations, which
// callers handle) and queries slower than 200ms.
func Open(ctx context.Context, cfg Config) (*gorm.DB, error) {
	if cfg.DSN == "" {
		return nil, errors.New("db: empty dsn")
	}
	if cfg.MaxOpenConns < 0 || cfg.MaxIdleConns < 0 || cfg.ConnMaxLifetime < 0 || cfg.ConnectTimeout < 0 {
		return nil, errors.New("db: negative pool size or duration in config")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("db: open: %w", err)
	}
	switch cfg.Driver {
	case DriverSQLite:
		return openSQLite(ctx, cfg)
	case DriverMySQL:
		return openMySQL(ctx, cfg)
	default:
		return nil, fmt.Errorf("db: unknown driver %q (want %q or %q)", cfg.Driver, DriverSQLite, DriverMySQL)
	}
}

// DefaultPingTimeout bounds Ping when ctx has no deadline, so a readiness
// probe cannot hang on an exhausted pool or a dead server.
const DefaultPingTimeout = 5 * time.Second

// Ping checks that the database answers; meant for /readyz.
func Ping(ctx context.Context, gdb *gorm.DB) error {
	if gdb == nil {
		return errors.New("db: ping: nil *gorm.DB")
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return fmt.Errorf("db: ping: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultPingTimeout)
		defer cancel()
	}
	// A real round trip rather than PingContext alone: for SQLite, PingContext
	// only proves a connection object exists, not that the file is readable.
	var one int
	if err := sqlDB.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("db: ping: %w", err)
	}
	return nil
}

// Close closes the connection pool behind gdb (for graceful shutdown and tests).
func Close(gdb *gorm.DB) error {
	if gdb == nil {
		return nil
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return fmt.Errorf("db: close: %w", err)
	}
	groups.Delete(sqlDB)
	return sqlDB.Close()
}

// gormConfig is shared by both drivers.
func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger: newGormLogger(),
		// UTC and millisecond precision on both drivers: gorm's MySQL dialect
		// creates DATETIME(3) columns, so a CreatedAt read back from MySQL equals
		// the one gorm set only if it had no sub-millisecond part; and UTC
		// everywhere (the mysql DSN uses loc=UTC) keeps SQLite's textual
		// timestamps comparable and equal to MySQL's.
		NowFunc: func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) },
	}
}

// applyPool sets the pool limits, falling back to per-driver defaults;
// maxIdle < 0 means "as many as maxOpen".
func applyPool(gdb *gorm.DB, cfg Config, maxOpen, maxIdle int, lifetime time.Duration) error {
	sqlDB, err := gdb.DB()
	if err != nil {
		return err
	}
	if cfg.MaxOpenConns > 0 {
		maxOpen = cfg.MaxOpenConns
	}
	if cfg.MaxIdleConns > 0 {
		maxIdle = cfg.MaxIdleConns
	}
	if maxIdle < 0 || maxIdle > maxOpen {
		maxIdle = maxOpen
	}
	if cfg.ConnMaxLifetime > 0 {
		lifetime = cfg.ConnMaxLifetime
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(maxIdle)
	sqlDB.SetConnMaxLifetime(lifetime)
	return nil
}
