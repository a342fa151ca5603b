package adapters

import (
	"context"
	"slices"
	"time"

	"gorm.io/gorm"

	"example.com/bookstore/common/db"
	"example.com/bookstore/payment/internal/app/command"
	"example.com/bookstore/payment/internal/domain"
)

// The outbox methods below implement command.Outbox. Every write is one
// conditional UPDATE, so a claim is decided by the database, not by which
// replica read the row first. The frequent ones (claim, delivered) go
// through db.Transaction, so that on SQLite they share the commit of the
// payments being written at the time.

// ClaimDue implements command.Outbox. It reads the due rows, then leases
// them with one conditional UPDATE: one write transaction for the whole
// batch, where a claim per row took one each and the single SQLite writer
// serialised them with every payment.
func (r *Repository) ClaimDue(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]command.Delivery, error) {
	var rows []outboxModel
	ms := now.UnixMilli()
	err := r.db.WithContext(ctx).
		Select("id", "pay_id", "action", "attempts").
		Where("status = ? AND next_attempt_ms <= ? AND lease_until_ms <= ?", outboxPending, ms, ms).
		Order("next_attempt_ms").Order("id").Limit(limit).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	ids := make([]int64, len(rows))
	for i, m := range rows {
		ids[i] = m.ID
	}
	untilMs := leaseUntil.UnixMilli()
	var claimed int64
	err = db.Transaction(ctx, r.db, func(tx *gorm.DB) error {
		res := tx.Model(&outboxModel{}).
			Where("id IN ? AND status = ? AND next_attempt_ms <= ? AND lease_until_ms <= ?", ids, outboxPending, ms, ms).
			Updates(map[string]any{
				"lease_owner":    owner,
				"lease_until_ms": untilMs,
				"attempts":       gorm.Expr("attempts + 1"),
			})
		claimed = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return nil, err
	}
	if claimed != int64(len(ids)) {
		// Another replica claimed, or a settlement dropped, some of them
		// in between: keep the rows that now carry this lease. Owner names
		// one process, whose passes run one after another, so no older
		// lease of ours can be among these ids.
		var mine []int64
		err := r.db.WithContext(ctx).Model(&outboxModel{}).
			Where("id IN ? AND lease_owner = ? AND lease_until_ms = ? AND status = ?", ids, owner, untilMs, outboxPending).
			Pluck("id", &mine).Error
		if err != nil {
			// The leases end by themselves; nothing was sent.
			return nil, err
		}
		kept := make(map[int64]bool, len(mine))
		for _, id := range mine {
			kept[id] = true
		}
		rows = slices.DeleteFunc(rows, func(m outboxModel) bool { return !kept[m.ID] })
	}
	out := make([]command.Delivery, 0, len(rows))
	for _, m := range rows {
		out = append(out, command.Delivery{ID: m.ID, PayID: m.PayID, Action: domain.StockAction(m.Action), Attempts: m.Attempts})
	}
	return out, nil
}

// Delivered implements command.Outbox. A row whose lease we lost (and that
// another replica delivers too) is left to that replica.
func (r *Repository) Delivered(ctx context.Context, ids []int64, owner string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	return db.Transaction(ctx, r.db, func(tx *gorm.DB) error {
		return tx.Model(&outboxModel{}).
			Where("id IN ? AND lease_owner = ? AND status = ?", ids, owner, outboxPending).
			Updates(map[string]any{"status": outboxDone, "done_at": now, "lease_owner": "", "lease_until_ms": 0, "last_error": ""}).Error
	})
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

// purgeableWhere selects delivered rows done before a time (given as Unix
// milliseconds and as a time); see PurgeDelivered.
const purgeableWhere = "status = ? AND next_attempt_ms < ? AND done_at < ?"

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

// PurgeDelivered implements command.OutboxPurger. It reads the ids first and
// deletes by id: a DELETE with a LIMIT is not portable (SQLite needs a
// compile option for it, MySQL refuses LIMIT in a subquery of IN).
//
// The read walks the (status, next_attempt_ms) index: a row is delivered
// only once its attempt time has come, so a row done before doneBefore was
// also due before it. Filtering on done_at alone read every delivered row
// of the retention period, each minute, into the page cache.
func (r *Repository) PurgeDelivered(ctx context.Context, doneBefore time.Time, limit int) (int, error) {
	var ids []int64
	err := r.db.WithContext(ctx).Model(&outboxModel{}).
		Where(purgeableWhere, outboxDone, doneBefore.UnixMilli(), doneBefore).
		Order("next_attempt_ms").Limit(limit).Pluck("id", &ids).Error
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	res := r.db.WithContext(ctx).Where("id IN ? AND status = ?", ids, outboxDone).Delete(&outboxModel{})
	return int(res.RowsAffected), res.Error
}
