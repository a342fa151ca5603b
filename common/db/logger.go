package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// SlowQueryThreshold: queries slower than this are logged at warn level.
const SlowQueryThreshold = 200 * time.Millisecond

// gormLogger sends gorm's messages to slog, quietly: only failed queries and
// slow ones, never the rows of every query. It looks up slog.Default() at each
// call, so a logger installed after Open is still used.
//
// Differences from gorm's own logger.NewSlogLogger, and why:
//   - SQL is logged with placeholders, not the values: rows hold password
//     hashes, addresses and payment data that have no place in logs;
//   - ErrRecordNotFound and unique violations are not logged as errors: they
//     are expected outcomes that services turn into typed errors;
//   - failed queries are logged at warn, not error: the caller gets the error
//     and decides whether it is one.
type gormLogger struct {
	level  logger.LogLevel
	slow   time.Duration
	logger func() *slog.Logger
}

func newGormLogger() *gormLogger {
	return &gormLogger{level: logger.Warn, slow: SlowQueryThreshold, logger: slog.Default}
}

var (
	_ logger.Interface = (*gormLogger)(nil)
	// Implementing gorm.ParamsFilter is what makes gorm hand Trace the SQL
	// without the bound values.
	_ gorm.ParamsFilter = (*gormLogger)(nil)
)

func (l *gormLogger) LogMode(level logger.LogLevel) logger.Interface {
	c := *l
	c.level = level
	return &c
}

func (l *gormLogger) Info(ctx context.Context, msg string, args ...any) {
	if l.level >= logger.Info {
		l.logger().InfoContext(ctx, "gorm: "+fmt.Sprintf(msg, args...), "component", "db")
	}
}

func (l *gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	if l.level >= logger.Warn {
		l.logger().WarnContext(ctx, "gorm: "+fmt.Sprintf(msg, args...), "component", "db")
	}
}

func (l *gormLogger) Error(ctx context.Context, msg string, args ...any) {
	if l.level >= logger.Error {
		l.logger().ErrorContext(ctx, "gorm: "+fmt.Sprintf(msg, args...), "component", "db")
	}
}

// ParamsFilter drops the bound values from the SQL that gorm renders for Trace.
func (l *gormLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

func (l *gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if l.level <= logger.Silent {
		return
	}
	elapsed := time.Since(begin)
	switch {
	case err != nil && l.level >= logger.Error && !quietError(err):
		sql, rows := fc()
		l.logger().WarnContext(ctx, "gorm: query failed", "component", "db", "err", err,
			"sql", sql, "rows", rows, "elapsed", elapsed.String())
	case l.slow > 0 && elapsed > l.slow && l.level >= logger.Warn:
		sql, rows := fc()
		l.logger().WarnContext(ctx, "gorm: slow query", "component", "db", "sql", sql,
			"rows", rows, "elapsed", elapsed.String(), "threshold", l.slow.String())
	case l.level >= logger.Info:
		sql, rows := fc()
		l.logger().InfoContext(ctx, "gorm: query", "component", "db", "sql", sql,
			"rows", rows, "elapsed", elapsed.String())
	}
}

// quietError: errors that are normal outcomes, handled by callers.
func quietError(err error) bool {
	return errors.Is(err, gorm.ErrRecordNotFound) || IsUniqueViolation(err) ||
		errors.Is(err, context.Canceled) // the client went away; not the database's fault
}
