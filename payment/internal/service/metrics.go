package service

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"example.com/bookstore/common/telemetry"
	"example.com/bookstore/payment/internal/adapters"
	"example.com/bookstore/payment/internal/domain"
)

// The payment service's business counters. They count what the database
// committed, which is why they sit on the repository: a pay, cancel or
// sweep that lost a race, or whose transaction was rolled back, counts
// nothing, and a payment expired on the way (a pay arriving after the
// expiry) counts as the TIMEOUT it became.
var (
	settlements = promauto.With(telemetry.Registry()).NewCounter(prometheus.CounterOpts{
		Namespace: telemetry.Namespace, Subsystem: "payment", Name: "settlements_total",
		Help: "Settlements stored: stock frozen, a WAITING payment created.",
	})
	paymentsClosed = promauto.With(telemetry.Registry()).NewCounterVec(prometheus.CounterOpts{
		Namespace: telemetry.Namespace, Subsystem: "payment", Name: "payments_closed_total",
		Help: "Payments that reached a final state, by state: PAYED, CANCEL or TIMEOUT.",
	}, []string{"state"})
	expirySweeps = promauto.With(telemetry.Registry()).NewCounterVec(prometheus.CounterOpts{
		Namespace: telemetry.Namespace, Subsystem: "payment", Name: "expiry_sweeps_total",
		Help: "Queries of the expiry sweeper for payments past their expiry, by result (ok, error).",
	}, []string{"result"})
)

func init() {
	// Present from the start, so that rates over them are 0, not absent.
	for _, s := range []domain.State{domain.StatePayed, domain.StateCancel, domain.StateTimeout} {
		paymentsClosed.WithLabelValues(string(s))
	}
	expirySweeps.WithLabelValues("ok")
	expirySweeps.WithLabelValues("error")
}

// countingRepository is the repository with the counters above; everything
// it does not override (the outbox, the freeze guards, the reads) is the
// repository's own.
type countingRepository struct {
	*adapters.Repository
}

func counting(r *adapters.Repository) countingRepository { return countingRepository{r} }

func (r countingRepository) AddPayment(ctx context.Context, p *domain.Payment) error {
	err := r.Repository.AddPayment(ctx, p)
	if err == nil {
		settlements.Inc()
	}
	return err
}

func (r countingRepository) UpdatePayment(ctx context.Context, payID string, fn func(*domain.Payment) error) error {
	var from, to domain.State
	err := r.Repository.UpdatePayment(ctx, payID, func(p *domain.Payment) error {
		from = p.State()
		err := fn(p)
		to = p.State()
		return err
	})
	countClosed(err, from, to)
	return err
}

func (r countingRepository) UpdatePaymentAndWallet(ctx context.Context, payID string, accountID int64, fn func(*domain.Payment, *domain.Wallet) error) error {
	var from, to domain.State
	err := r.Repository.UpdatePaymentAndWallet(ctx, payID, accountID, func(p *domain.Payment, w *domain.Wallet) error {
		from = p.State()
		err := fn(p, w)
		to = p.State()
		return err
	})
	countClosed(err, from, to)
	return err
}

// DuePayments is called by the expiry sweeper only: once per pass, and
// again at once while passes find full batches.
func (r countingRepository) DuePayments(ctx context.Context, now time.Time, limit int) ([]string, error) {
	ids, err := r.Repository.DuePayments(ctx, now, limit)
	result := "ok"
	if err != nil {
		result = "error"
	}
	expirySweeps.WithLabelValues(result).Inc()
	return ids, err
}

// countClosed counts a committed change of state (the update function runs
// again when a transaction is retried; from and to are its last run's).
func countClosed(err error, from, to domain.State) {
	if err == nil && to != from && to != domain.StateWaiting {
		paymentsClosed.WithLabelValues(string(to)).Inc()
	}
}
