package adapters

import "time"

// The gorm models are the storage shape, kept apart from the domain types.
// Money is stored in integer cents and the instants the service compares
// (expiry, retry, lease) as Unix milliseconds: exact, and compared the same
// way by SQLite and MySQL.

type paymentModel struct {
	ID          int64     `gorm:"primaryKey;autoIncrement"`
	PayID       string    `gorm:"size:36;not null;uniqueIndex:uk_payment_pay_id"`
	AccountID   int64     `gorm:"not null"`
	CreateTime  time.Time `gorm:"not null"`
	TotalCents  int64     `gorm:"not null"`
	ExpiresMs   int64     `gorm:"not null"`
	ExpireAtMs  int64     `gorm:"not null;index:idx_payment_due,priority:2"`
	PaymentLink string    `gorm:"size:300;not null"`
	State       string    `gorm:"size:20;not null;index:idx_payment_due,priority:1"`
}

func (paymentModel) TableName() string { return "payment" }

type paymentItemModel struct {
	ID         int64  `gorm:"primaryKey;autoIncrement"`
	PayID      string `gorm:"size:36;not null;index:idx_payment_item_pay_id"`
	ProductID  int64  `gorm:"not null"`
	Amount     int32  `gorm:"not null"`
	PriceCents int64  `gorm:"not null"`
}

func (paymentItemModel) TableName() string { return "payment_item" }

// purchaseModel holds the delivery details of a settlement, which the
// original kept only in an in-memory cache.
type purchaseModel struct {
	PayID     string `gorm:"primaryKey;size:36"`
	Delivery  bool   `gorm:"not null"`
	Pay       string `gorm:"type:text;not null"`
	Name      string `gorm:"type:text;not null"`
	Telephone string `gorm:"type:text;not null"`
	Location  string `gorm:"type:text;not null"`
}

func (purchaseModel) TableName() string { return "purchase" }

type walletModel struct {
	ID         int64 `gorm:"primaryKey;autoIncrement"`
	AccountID  int64 `gorm:"not null;uniqueIndex:uk_wallet_account_id"`
	MoneyCents int64 `gorm:"not null"`
}

func (walletModel) TableName() string { return "wallet" }

// Outbox row states.
const (
	outboxPending = "PENDING"
	outboxDone    = "DONE"
	outboxFailed  = "FAILED" // refused by the warehouse for good; left for an operator
)

// outboxModel is one stock action owed to the warehouse. The unique index
// on (pay_id, action) means a payment's stock is thawed or decreased by at
// most one row, however many processes race to enqueue it.
type outboxModel struct {
	ID            int64     `gorm:"primaryKey;autoIncrement"`
	PayID         string    `gorm:"size:36;not null;uniqueIndex:uk_outbox_pay_id_action,priority:1"`
	Action        string    `gorm:"size:16;not null;uniqueIndex:uk_outbox_pay_id_action,priority:2"`
	Status        string    `gorm:"size:16;not null;index:idx_outbox_due,priority:1"`
	NextAttemptMs int64     `gorm:"not null;index:idx_outbox_due,priority:2"`
	LeaseOwner    string    `gorm:"size:100;not null;default:''"`
	LeaseUntilMs  int64     `gorm:"not null;default:0"`
	Attempts      int       `gorm:"not null;default:0"`
	LastError     string    `gorm:"size:500;not null;default:''"`
	CreatedAt     time.Time `gorm:"not null"`
	DoneAt        *time.Time
}

func (outboxModel) TableName() string { return "outbox" }
