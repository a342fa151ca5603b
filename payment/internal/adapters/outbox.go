package adapters

import (
	"context"
	"time"

	"gorm.io/gorm"

	"example.com/bookstore/payment/internal/app/command"
	"example.com/bookstore/payment/internal/domain"
)

// The outbox methods below implement command.Outbox. Every write is one
// conditional UPDATE, so a claim is decided by the database, not by which
// replica read the row first.

// Due implements command.Outbox.
func (r *Repository) Due(ctx context.Context, now time.Time, limit int) ([]command.Delivery, error) {
	var rows []outboxModel
	ms := now.UnixMilli()
	err := r.db.WithContext(ctx).
		Select("id", "pay_id", "action", "attempts").
		Where("status = ? AND next_attempt_ms <= ? AND lease_until_ms <= ?", outboxPending, ms, ms).
		Order("next_attempt_ms").Order("id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]command.Delivery, 0, len(rows))
	for _, m := range rows {
		out = append(out, command.Delivery{ID: m.ID, PayID: m.PayID, Action: domain.StockAction(m.Action), Attempts: m.Attempts})
	}
	return out, nil
}

// Claim implements command.Outbox.
func (r *Repository) Claim(ctx context.Context, id int64, owner string, now, leaseUntil time.Time) (bool, error) {
	ms := now.UnixMilli()
	res := r.db.WithContext(ctx).Model(&outboxModel{}).
		Where("id = ? AND status = ? AND next_attempt_ms <= ? AND lease_until_ms <= ?", id, outboxPending, ms, ms).
		Updates(map[string]any{
			"lease_owner":    owner,
			"lease_until_ms": leaseUntil.UnixMilli(),
			"attempts":       gorm.Expr("attempts + 1"),
		})
	return res.RowsAffected == 1, res.Error
}

// Delivered implements command.Outbox. A row whose lease we lost (and that
// another replica delivers too) is left to that replica.
func (r *Repository) Delivered(ctx context.Context, id int64, owner string, now time.Time) error {
	return r.db.WithContext(ctx).Model(&outboxModel{}).
		Where("id = ? AND lease_owner = ? AND status = ?", id, owner, outboxPending).
		Updates(map[string]any{"status": outboxDone, "done_at": now, "lease_owner": "", "lease_until_ms": 0, "last_error": ""}).Error
}

// Retry implements command.Outbox.
func (r *Repository) Retry(ctx context.Context, id int64, owner string, next time.Time, reason string) error {
	return r.db.WithContext(ctx).Model(&outboxModel{}).
		Where("id = ? AND lease_owner = ? AND status = ?", id, owner, outboxPending).
		Updates(map[string]any{"next_attempt_ms": next.UnixMilli(), "lease_owner": "", "lease_until_ms": 0, "last_error": truncate(reason, 500)}).Error
}

// GiveUp implements command.Outbox.
func (r *Repository) GiveUp(ctx context.Context, id int64, owner string, now time.Time, reason string) error {
	return r.db.WithContext(ctx).Model(&outboxModel{}).
		Where("id = ? AND lease_owner = ? AND status = ?", id, owner, outboxPending).
		Updates(map[string]any{"status": outboxFailed, "done_at": now, "lease_owner": "", "lease_until_ms": 0, "last_error": truncate(reason, 500)}).Error
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
