package telemetry

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"
)

// InstrumentDB makes gdb's statements spans of the request they run for and
// publishes its connection pool statistics (go_sql_* with db_name=name) on
// /metrics. A second database under the same name (a test restarting a
// service in one process) replaces the first one's statistics.
func InstrumentDB(gdb *gorm.DB, name string) error {
	if err := gdb.Use(gormTracing{}); err != nil {
		return fmt.Errorf("telemetry: db tracing: %w", err)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return fmt.Errorf("telemetry: db stats: %w", err)
	}
	c := collectors.NewDBStatsCollector(sqlDB, name)
	dbStatsMu.Lock()
	defer dbStatsMu.Unlock()
	if old, ok := dbStats[name]; ok {
		registry.Unregister(old)
	}
	if err := registry.Register(c); err != nil {
		return fmt.Errorf("telemetry: db stats: %w", err)
	}
	dbStats[name] = c
	return nil
}

var (
	dbStatsMu sync.Mutex
	dbStats   = map[string]prometheus.Collector{}
)

// gormTracing is a gorm plugin: one client span per statement, a child of
// the span in the statement's context. Statements run without a recording
// span (the payment sweeper's polling, seeding at start) make none, so that
// background polling does not flood the trace store with one-span traces.
//
// The span holds the SQL as gorm renders it, with placeholders: the bound
// values (password hashes, addresses) never leave the process.
type gormTracing struct{}

const gormSpanKey = "telemetry:span"

func (gormTracing) Name() string { return "telemetry:tracing" }

func (gormTracing) Initialize(db *gorm.DB) error {
	cb := db.Callback()
	// gorm's processor type is unexported, hence one pair of lines per kind.
	return errors.Join(
		cb.Create().Before("gorm:create").Register("telemetry:before_create", startDBSpan("INSERT")),
		cb.Create().After("gorm:create").Register("telemetry:after_create", endDBSpan),
		cb.Query().Before("gorm:query").Register("telemetry:before_query", startDBSpan("SELECT")),
		cb.Query().After("gorm:query").Register("telemetry:after_query", endDBSpan),
		cb.Update().Before("gorm:update").Register("telemetry:before_update", startDBSpan("UPDATE")),
		cb.Update().After("gorm:update").Register("telemetry:after_update", endDBSpan),
		cb.Delete().Before("gorm:delete").Register("telemetry:before_delete", startDBSpan("DELETE")),
		cb.Delete().After("gorm:delete").Register("telemetry:after_delete", endDBSpan),
		cb.Row().Before("gorm:row").Register("telemetry:before_row", startDBSpan("")),
		cb.Row().After("gorm:row").Register("telemetry:after_row", endDBSpan),
		cb.Raw().Before("gorm:raw").Register("telemetry:before_raw", startDBSpan("")),
		cb.Raw().After("gorm:raw").Register("telemetry:after_raw", endDBSpan),
	)
}

// startDBSpan starts the span of a statement of kind op ("" for Row and Raw,
// whose operation is read from the SQL when it ends).
func startDBSpan(op string) func(*gorm.DB) {
	return func(tx *gorm.DB) {
		ctx := tx.Statement.Context
		if ctx == nil || !trace.SpanFromContext(ctx).IsRecording() {
			return
		}
		name := op
		if name == "" {
			name = "SQL"
		}
		_, span := Tracer().Start(ctx, name,
			trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system", dbSystem(tx))))
		tx.InstanceSet(gormSpanKey, span)
	}
}

func endDBSpan(tx *gorm.DB) {
	v, ok := tx.InstanceGet(gormSpanKey)
	if !ok {
		return
	}
	span, ok := v.(trace.Span)
	if !ok {
		return
	}
	sql := tx.Statement.SQL.String()
	op := strings.ToUpper(firstWord(sql))
	table := tx.Statement.Table
	if table == "" {
		table = tableOf(sql)
	}
	if op != "" {
		span.SetName(strings.TrimSpace(op + " " + table))
	}
	span.SetAttributes(
		attribute.String("db.operation.name", op),
		attribute.String("db.collection.name", table),
		attribute.String("db.query.text", truncate(sql, 2000)),
		attribute.Int64("db.rows_affected", tx.Statement.RowsAffected),
	)
	if err := tx.Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		// The driver's message, not the statement's values: MySQL may quote
		// a duplicate key's value, which is a username at worst.
		span.SetStatus(codes.Error, truncate(err.Error(), 300))
	}
	span.End()
}

func dbSystem(tx *gorm.DB) string {
	if tx.Dialector != nil {
		return tx.Dialector.Name()
	}
	return "other_sql"
}

func firstWord(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t\n("); i >= 0 {
		return s[:i]
	}
	return s
}

// tableOf finds the table of a raw statement (UPDATE t ..., INSERT INTO t,
// DELETE FROM t, SELECT ... FROM t): the first word after the keyword.
func tableOf(sql string) string {
	words := strings.Fields(sql)
	for i, w := range words {
		switch u := strings.ToUpper(w); {
		case (u == "UPDATE" && i == 0) || u == "INTO" || u == "FROM":
			if i+1 < len(words) {
				return strings.Trim(words[i+1], "`\"'();,")
			}
			return ""
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
