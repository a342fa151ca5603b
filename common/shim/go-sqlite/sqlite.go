// Package sqlite stands in for github.com/glebarez/go-sqlite, a fork of
// modernc.org/sqlite, in every build of this repository: each go.mod
// whose build includes common/db replaces the fork with this module.
//
// Why: gorm's pure-Go SQLite dialect, github.com/glebarez/sqlite, imports
// the fork only to name its error type. The fork registers the database/sql
// driver "sqlite" as modernc.org/sqlite does, so the two cannot be linked
// together, and the fork prepares every statement again on every use,
// whereas modernc.org/sqlite v1.55 keeps a prepared statement prepared
// (common/db caches them per connection). With this module in its place the
// dialect links against modernc.org/sqlite and nothing else.
package sqlite

import (
	msqlite "modernc.org/sqlite"
)

// Error is the error type the dialect translates (unique and foreign key
// violations): modernc.org/sqlite's.
type Error = msqlite.Error
