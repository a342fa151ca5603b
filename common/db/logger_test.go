package db

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

func TestGormLoggerIsQuiet(t *testing.T) {
	logs := captureSlog(t)
	gdb, err := Open(context.Background(), Config{Driver: DriverSQLite, DSN: filepath.Join(t.TempDir(), "x.db")})
	require.NoError(t, err)
	defer Close(gdb)

	type account struct {
		ID    uint
		Email string `gorm:"uniqueIndex"`
	}
	require.NoError(t, gdb.AutoMigrate(&account{}))
	require.NoError(t, gdb.Create(&account{Email: "alice@example.com"}).Error)

	// Expected outcomes, handled by callers: not logged.
	assert.ErrorIs(t, gdb.First(&account{}, "email = ?", "bob@example.com").Error, gorm.ErrRecordNotFound)
	assert.True(t, IsUniqueViolation(gdb.Create(&account{Email: "alice@example.com"}).Error))
	assert.Empty(t, logs.String())

	// A real failure is logged at warn, with placeholders instead of values.
	require.Error(t, gdb.Exec("UPDATE nosuchtable SET secret = ?", "hunter2").Error)
	out := logs.String()
	assert.Contains(t, out, "level=WARN")
	assert.Contains(t, out, "query failed")
	assert.Contains(t, out, "nosuchtable")
	assert.NotContains(t, out, "hunter2", "bound values must not be logged")
}

func TestGormLoggerLevels(t *testing.T) {
	logs := captureSlog(t)
	l := newGormLogger()
	ctx := context.Background()
	sqlFn := func() (string, int64) { return "SELECT ?", 1 }

	l.Trace(ctx, time.Now(), sqlFn, nil)
	l.Trace(ctx, time.Now(), sqlFn, gorm.ErrRecordNotFound)
	l.Trace(ctx, time.Now(), sqlFn, gorm.ErrDuplicatedKey)
	l.Trace(ctx, time.Now(), sqlFn, context.Canceled)
	l.Info(ctx, "hello %d", 1)
	assert.Empty(t, logs.String(), "fast successful queries and expected errors are silent")

	l.Trace(ctx, time.Now().Add(-time.Second), sqlFn, nil)
	assert.Contains(t, logs.String(), "slow query")
	l.Warn(ctx, "careful %s", "now")
	assert.Contains(t, logs.String(), "gorm: careful now")

	silent := l.LogMode(logger.Silent)
	before := logs.String()
	silent.Trace(ctx, time.Now().Add(-time.Second), sqlFn, errors.New("boom"))
	assert.Equal(t, before, logs.String())

	verbose := l.LogMode(logger.Info) // what db.Debug() does
	verbose.Trace(ctx, time.Now(), sqlFn, nil)
	assert.Contains(t, logs.String(), "level=INFO")
}
