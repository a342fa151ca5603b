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
	// Items ([]itemJSON) and Purchase (purchaseJSON) are JSON: they are only
	// ever read and written with their payment, and in its row that costs
	// one statement instead of three, each way. The purchase holds the
	// delivery details of a settlement, which the original kept only in an
	// in-memory cache.
	Items    string `gorm:"type:text;not null;default:''"`
	Purchase string `gorm:"type:text;not null;default:''"`
}

func (paymentModel) TableName() string { return "payment" }

// itemJSON is one priced item of a payment, as stored in paymentModel.Items.
type itemJSON struct {
	ProductID  int64 `json:"product_id"`
	Amount     int32 `json:"amount"`
	PriceCents int64 `json:"price_cents"`
}

// purchaseJSON is paymentModel.Purchase.
type purchaseJSON struct {
	Delivery  bool   `json:"delivery"`
	Pay       string `json:"pay"`
	Name      string `json:"name"`
	Telephone string `json:"telephone"`
	Location  string `json:"location"`
}

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
