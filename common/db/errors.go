package db

import (
	"errors"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
	sqlite3 "modernc.org/sqlite/lib"
)

// MySQL/MariaDB server error numbers for a duplicate key.
const (
	mysqlErrDupEntry            = 1062 // ER_DUP_ENTRY: "Duplicate entry 'x' for key 'y'"
	mysqlErrDupEntryWithKeyName = 1586 // ER_DUP_ENTRY_WITH_KEY_NAME
)

// IsUniqueViolation reports whether err (possibly wrapped) is a duplicate-key
// error: an INSERT or UPDATE hit a UNIQUE index or the primary key. Services
// use it to turn a lost race on a unique index ("check, then insert") into a
// typed "already exists" error instead of an internal one.
//
// Recognises SQLite (SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY), MySQL/MariaDB
// (1062, 1586) and gorm.ErrDuplicatedKey (what gorm returns instead when
// gorm.Config.TranslateError is on).
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		return myErr.Number == mysqlErrDupEntry || myErr.Number == mysqlErrDupEntryWithKeyName
	}
	var liteErr *gosqlite.Error
	if errors.As(err, &liteErr) {
		// go-sqlite reports extended result codes; MySQL's 1062 covers the
		// primary key too, so both count here.
		code := liteErr.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
