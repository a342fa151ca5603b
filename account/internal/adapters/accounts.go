// Package adapters stores accounts with gorm, in SQLite or MySQL.
package adapters

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"example.com/bookstore/account/internal/domain"
	"example.com/bookstore/common/db"
)

// accountRow is the account table; the domain type stays free of gorm.
type accountRow struct {
	ID        int64
	Username  string
	Password  string
	Name      string
	Avatar    *string
	Telephone *string
	Email     *string
	Location  *string
}

func (accountRow) TableName() string { return "account" }

func toRow(a *domain.Account) accountRow {
	p := a.Profile()
	return accountRow{
		ID:        a.ID(),
		Username:  p.Username,
		Password:  a.PasswordHash(),
		Name:      p.Name,
		Avatar:    p.Avatar,
		Telephone: p.Telephone,
		Email:     p.Email,
		Location:  p.Location,
	}
}

func (r accountRow) toDomain() *domain.Account {
	return domain.Restore(r.ID, r.Password, domain.Profile{
		Username:  r.Username,
		Name:      r.Name,
		Avatar:    r.Avatar,
		Telephone: r.Telephone,
		Email:     r.Email,
		Location:  r.Location,
	})
}

// Accounts is the gorm implementation of domain.Repository.
type Accounts struct {
	db    *gorm.DB
	mysql bool
}

var _ domain.Repository = (*Accounts)(nil)

// NewAccounts returns the repository over gdb. Call Migrate before use.
func NewAccounts(gdb *gorm.DB) *Accounts {
	return &Accounts{db: gdb, mysql: gdb.Dialector.Name() == db.DriverMySQL}
}

// The schema is written out per dialect rather than left to AutoMigrate:
// MySQL needs binary collations on the unique columns, or its default
// case-insensitive collation would make "Alice" clash with "alice" (and
// find one by the other) where SQLite, like the original HSQLDB, does not.
// IF NOT EXISTS lets several replicas start at once.
var schema = map[string][]string{
	db.DriverSQLite: {
		`CREATE TABLE IF NOT EXISTS account (
			id        INTEGER PRIMARY KEY AUTOINCREMENT,
			username  VARCHAR(50)  NOT NULL,
			password  VARCHAR(100) NOT NULL,
			name      VARCHAR(50)  NOT NULL,
			avatar    VARCHAR(255),
			telephone VARCHAR(20),
			email     VARCHAR(100),
			location  VARCHAR(100))`,
		`CREATE UNIQUE INDEX IF NOT EXISTS account_user ON account (username)`,
		`CREATE UNIQUE INDEX IF NOT EXISTS account_telephone ON account (telephone)`,
		`CREATE UNIQUE INDEX IF NOT EXISTS account_email ON account (email)`,
	},
	db.DriverMySQL: {
		"CREATE TABLE IF NOT EXISTS account (" +
			"id        BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY," +
			"username  VARCHAR(50)  COLLATE utf8mb4_bin NOT NULL," +
			"password  VARCHAR(100) COLLATE utf8mb4_bin NOT NULL," +
			"name      VARCHAR(50)  NOT NULL," +
			"avatar    VARCHAR(255)," +
			"telephone VARCHAR(20)  COLLATE utf8mb4_bin," +
			"email     VARCHAR(100) COLLATE utf8mb4_bin," +
			"location  VARCHAR(100)," +
			"UNIQUE KEY account_user (username)," +
			"UNIQUE KEY account_telephone (telephone)," +
			"UNIQUE KEY account_email (email)" +
			") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
	},
}

// Migrate creates the account table and its unique indexes if missing.
func (r *Accounts) Migrate(ctx context.Context) error {
	stmts, ok := schema[r.db.Dialector.Name()]
	if !ok {
		return fmt.Errorf("account schema: unsupported database %q", r.db.Dialector.Name())
	}
	for _, s := range stmts {
		if err := r.db.WithContext(ctx).Exec(s).Error; err != nil {
			return fmt.Errorf("account schema: %w", err)
		}
	}
	return nil
}

// seedAccount is the contract's one preset user (§6.1), the administrator;
// the hash is that of the browser's form of "123456".
var seedAccount = accountRow{
	ID:        1,
	Username:  "icyfenix",
	Password:  "$2a$10$iIim4LtpT2yjxU2YVNDuO.yb1Z2lq86vYBZleAeuIh2aFXjyoMCM.",
	Name:      "周志明",
	Avatar:    ptr(""),
	Telephone: ptr("18888888888"),
	Email:     ptr("icyfenix@gmail.com"),
	Location:  ptr("唐家湾港湾大道科技一路3号远光软件股份有限公司"),
}

func ptr(s string) *string { return &s }

// Seed loads the preset user into an empty table. A table with any row is
// left alone, and of replicas starting together on one empty database only
// one insert takes effect (the others hit id 1 and do nothing).
func (r *Accounts) Seed(ctx context.Context) (seeded bool, err error) {
	var n int64
	if err := r.db.WithContext(ctx).Model(&accountRow{}).Count(&n).Error; err != nil {
		return false, fmt.Errorf("seed accounts: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	row := seedAccount
	res := r.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return false, fmt.Errorf("seed accounts: %w", res.Error)
	}
	return res.RowsAffected > 0, nil
}

// Create implements domain.Repository.
func (r *Accounts) Create(ctx context.Context, a *domain.Account) (*domain.Account, error) {
	row := toRow(a)
	err := db.Transaction(ctx, r.db, func(tx *gorm.DB) error {
		row.ID = 0 // the database assigns it (fn may run again)
		taken, err := clash(tx, row)
		if err != nil {
			return err
		}
		if taken {
			return domain.ErrDuplicateAccount
		}
		return insert(tx, &row)
	})
	if err != nil {
		return nil, err
	}
	return row.toDomain(), nil
}

// insert adds row; it is where a writer that raced past clash loses, on
// the unique indexes.
func insert(tx *gorm.DB, row *accountRow) error {
	err := tx.Create(row).Error
	if db.IsUniqueViolation(err) {
		return domain.ErrDuplicateAccount
	}
	return err
}

// Update implements domain.Repository.
func (r *Accounts) Update(ctx context.Context, id int64, fn func(*domain.Account) error) (*domain.Account, error) {
	var out *domain.Account
	err := db.Transaction(ctx, r.db, func(tx *gorm.DB) error {
		q := tx
		if r.mysql {
			// SQLite needs no row lock: its write transactions are
			// serialised from BEGIN (see common/db).
			q = q.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
		}
		var row accountRow
		err := q.Where("id = ?", id).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return domain.ErrNotFound
		}
		if err != nil {
			return err
		}
		a := row.toDomain()
		if err := fn(a); err != nil {
			return err
		}
		next := toRow(a)
		next.ID = id
		taken, err := clash(tx, next)
		if err != nil {
			return err
		}
		if taken {
			return domain.ErrConflictingAccount
		}
		if err := overwrite(tx, next); err != nil {
			return err
		}
		out = next.toDomain()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// overwrite replaces every column of row's account, NULLs included.
func overwrite(tx *gorm.DB, row accountRow) error {
	err := tx.Model(&accountRow{}).Where("id = ?", row.ID).Updates(map[string]any{
		"username":  row.Username,
		"password":  row.Password,
		"name":      row.Name,
		"avatar":    row.Avatar,
		"telephone": row.Telephone,
		"email":     row.Email,
		"location":  row.Location,
	}).Error
	if db.IsUniqueViolation(err) {
		return domain.ErrConflictingAccount
	}
	return err
}

// clash reports whether an account other than row.ID has row's username,
// email or telephone. NULLs never clash: the unique indexes allow many.
func clash(tx *gorm.DB, row accountRow) (bool, error) {
	cond, args := "username = ?", []any{row.Username}
	if row.Telephone != nil {
		cond, args = cond+" OR telephone = ?", append(args, *row.Telephone)
	}
	if row.Email != nil {
		cond, args = cond+" OR email = ?", append(args, *row.Email)
	}
	var n int64
	err := tx.Model(&accountRow{}).Where("id <> ?", row.ID).Where("("+cond+")", args...).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("check unique account fields: %w", err)
	}
	return n > 0, nil
}

// ByUsername implements domain.Repository.
func (r *Accounts) ByUsername(ctx context.Context, username string) (*domain.Account, error) {
	var row accountRow
	err := r.db.WithContext(ctx).Where("username = ?", username).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, domain.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find account: %w", err)
	}
	return row.toDomain(), nil
}
