package db

import (
	"errors"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
	msqlite "modernc.org/sqlite"
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
	var liteErr *msqlite.Error
	if errors.As(err, &liteErr) {
		// The driver reports extended result codes; MySQL's 1062 covers the
		// primary key too, so both count here.
		code := liteErr.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// MySQL/MariaDB server error numbers that roll back a statement or a
// transaction which may succeed when run again.
const (
	mysqlErrLockWaitTimeout = 1205 // ER_LOCK_WAIT_TIMEOUT
	mysqlErrDeadlock        = 1213 // ER_LOCK_DEADLOCK
)

// IsTransient reports whether err (possibly wrapped) failed a transaction
// that may succeed when run again from the start: MySQL chose it as a
// deadlock victim or its lock wait timed out, or the SQLite database was
// busy or locked beyond busy_timeout.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		return myErr.Number == mysqlErrDeadlock || myErr.Number == mysqlErrLockWaitTimeout
	}
	var liteErr *msqlite.Error
	if errors.As(err, &liteErr) {
		// The low byte of an extended result code is the primary one.
		c := liteErr.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	return false
}
