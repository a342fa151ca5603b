package dbtest_test

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/bookstore/common/db"
	"example.com/bookstore/common/db/dbtest"
)

func TestKind(t *testing.T) {
	want := dbtest.KindSQLite
	if os.Getenv(dbtest.EnvMySQLDSN) != "" {
		want = dbtest.KindMySQL
	}
	assert.Equal(t, want, dbtest.Kind())
	assert.Equal(t, want, dbtest.Config(t).Driver)
}

// TestFreshEmptyDatabases: every call gets its own empty database.
func TestFreshEmptyDatabases(t *testing.T) {
	type thing struct{ ID uint }
	a, b := dbtest.Open(t), dbtest.Open(t)
	require.NoError(t, a.AutoMigrate(&thing{}))
	require.NoError(t, a.Create(&thing{}).Error)
	assert.True(t, a.Migrator().HasTable(&thing{}))
	assert.False(t, b.Migrator().HasTable(&thing{}), "second database must be independent")
	require.NoError(t, db.Ping(context.Background(), b))
	if dbtest.Kind() == dbtest.KindMySQL {
		var charset string
		require.NoError(t, a.Raw("SELECT @@character_set_database").Scan(&charset).Error)
		assert.Equal(t, "utf8mb4", charset)
	}
}

// TestCleanupRemovesDatabase: the database is gone once its test is over.
func TestCleanupRemovesDatabase(t *testing.T) {
	var cfg db.Config
	t.Run("user", func(t *testing.T) {
		gdb := dbtest.Open(t)
		require.NoError(t, gdb.Exec("CREATE TABLE x (id INT)").Error)
		cfg = dbtest.Config(t) // a second one, never opened: must be dropped too
	})
	switch cfg.Driver {
	case db.DriverSQLite:
		_, err := os.Stat(cfg.DSN)
		assert.True(t, os.IsNotExist(err), "sqlite file %s still exists", cfg.DSN)
	case db.DriverMySQL:
		dsn, err := mysql.ParseDSN(cfg.DSN)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(dsn.DBName, "t_"), dsn.DBName)
		admin, err := sql.Open("mysql", os.Getenv(dbtest.EnvMySQLDSN))
		require.NoError(t, err)
		defer admin.Close()
		var n int
		require.NoError(t, admin.QueryRow(
			"SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", dsn.DBName).Scan(&n))
		assert.Zero(t, n, "database %s not dropped", dsn.DBName)
	default:
		t.Fatalf("unexpected driver %q", cfg.Driver)
	}
}

// TestUnreachableServerFails: with BOOKSTORE_TEST_MYSQL_DSN set but no server,
// tests must fail (not skip), so CI cannot silently lose MySQL coverage.
// Runs this test binary again, in a child process, against a closed port.
func TestUnreachableServerFails(t *testing.T) {
	if os.Getenv("DBTEST_CHILD") == "1" {
		dbtest.Open(t) // must fail
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestUnreachableServerFails$", "-test.v")
	cmd.Env = append(os.Environ(),
		"DBTEST_CHILD=1",
		dbtest.EnvMySQLDSN+"=root@tcp(127.0.0.1:1)/?charset=utf8mb4&parseTime=True&loc=UTC")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "child test should have failed:\n%s", out)
	assert.Contains(t, string(out), "--- FAIL: TestUnreachableServerFails")
	assert.Contains(t, string(out), "unreachable")
	assert.NotContains(t, string(out), "--- SKIP")
}

func TestSQLiteFileUnderTempDir(t *testing.T) {
	if dbtest.Kind() != dbtest.KindSQLite {
		t.Skip("sqlite only")
	}
	cfg := dbtest.Config(t)
	assert.Equal(t, "test.db", filepath.Base(cfg.DSN))
	assert.True(t, filepath.IsAbs(cfg.DSN))
}
