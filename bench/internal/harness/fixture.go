package harness

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	// The pure-Go SQLite driver the payment service uses, for seeding wallets.
	_ "modernc.org/sqlite"

	"example.com/bookstore/e2e/stack"
)

// The seeded administrator and the browser's wire form of its password
// (contract §3.3); buyers get a wire password of their own.
const (
	adminUser = "icyfenix"
	adminWire = "MFfTW3uNI4eqhwDkG7HP9p2mzEUu/r2"
	buyerWire = "bench-buyer-wire-password"
)

// walletCents funds every buyer for far more purchases than a run makes.
const walletCents = int64(1) << 50

// buyStock is the stock of the product the buyers buy: far more than a run
// sells, and within the contract's int32.
const buyStock = 1_000_000_000

type buyer struct {
	name  string
	token string
	id    int64
}

// fixture is the state the scenarios run against: tokens, buyers with
// funded wallets, the product they buy and the request bodies.
type fixture struct {
	gateway     string
	admin       string
	products    []int64
	buyProduct  int64
	buyers      []buyer
	settleBody  []byte
	paidBySetup int64
}

func prepare(ctx context.Context, s *stack.Stack, paymentDB string, nBuyers int) (*fixture, error) {
	c := &http.Client{Transport: newTransport(), Timeout: 30 * time.Second}
	f := &fixture{gateway: s.GatewayURL}

	r, err := callSetup(ctx, c, "GET", f.gateway+"/oauth/token?"+tokenQuery(adminUser, adminWire), "", nil)
	if err != nil {
		return nil, err
	}
	if err := r.expect("admin login", 200); err != nil {
		return nil, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(r.body, &tok); err != nil {
		return nil, fmt.Errorf("admin login: %w", err)
	}
	f.admin = tok.AccessToken

	if r, err = callSetup(ctx, c, "GET", f.gateway+"/restful/products", "", nil); err != nil {
		return nil, err
	}
	if err := r.expect("list products", 200); err != nil {
		return nil, err
	}
	var ps []struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(r.body, &ps); err != nil || len(ps) == 0 {
		return nil, fmt.Errorf("list products: %v (%d products)", err, len(ps))
	}
	for _, p := range ps {
		f.products = append(f.products, p.ID)
	}
	f.buyProduct = f.products[0]
	url := fmt.Sprintf("%s/restful/products/stockpile/%d?amount=%d", f.gateway, f.buyProduct, buyStock)
	if r, err = callSetup(ctx, c, "PATCH", url, f.admin, nil); err != nil {
		return nil, err
	}
	if err := r.expect("set stock", 200); err != nil {
		return nil, err
	}

	f.settleBody, _ = json.Marshal(map[string]any{
		"items": []map[string]any{{"id": f.buyProduct, "amount": 1}},
		// What the frontend sends: the purchase plus the buyer's account (§11).
		"purchase": map[string]any{
			"name": "bench", "telephone": "18888888888", "delivery": true, "pay": "wechat",
			"address":  map[string]any{"province": "广东省", "city": "珠海市", "area": "香洲区"},
			"location": "广东省 珠海市 香洲区 唐家湾",
		},
	})

	if f.buyers, err = register(ctx, c, f.gateway, nBuyers); err != nil {
		return nil, err
	}
	if err := fundWallets(ctx, s, paymentDB, f.buyers); err != nil {
		return nil, err
	}
	return f, nil
}

// register creates n buyers through the REST API and logs each in. Both
// cost a bcrypt hash, so a few run at once.
func register(ctx context.Context, c *http.Client, gateway string, n int) ([]buyer, error) {
	buyers := make([]buyer, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			name := fmt.Sprintf("bench%03d", i)
			body := map[string]any{
				"username": name, "password": buyerWire, "name": "Bench " + strconv.Itoa(i),
				"email": name + "@example.com", "telephone": fmt.Sprintf("139%08d", i), "avatar": "",
			}
			err := registerOne(ctx, c, gateway, name, body)
			var r reply
			if err == nil {
				r, err = callSetup(ctx, c, "GET", gateway+"/oauth/token?"+tokenQuery(name, buyerWire), "", nil)
			}
			if err == nil {
				err = r.expect("login "+name, 200)
			}
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			if err == nil {
				err = json.Unmarshal(r.body, &tok)
			}
			var id int64
			if err == nil {
				id, err = accountIDOf(tok.AccessToken)
			}
			buyers[i], errs[i] = buyer{name: name, token: tok.AccessToken, id: id}, err
		}()
	}
	wg.Wait()
	return buyers, errors.Join(errs...)
}

// registerOne creates one account. An attempt that timed out (503) may
// still have created it, so a retry that finds the name taken counts as
// done; the login that follows proves it.
func registerOne(ctx context.Context, c *http.Client, gateway, name string, body any) error {
	for attempt := 0; ; attempt++ {
		r, err := call(ctx, c, "POST", gateway+"/restful/accounts", "", body)
		switch {
		case err == nil && r.status == http.StatusOK:
			return nil
		case err == nil && r.status == http.StatusBadRequest && attempt > 0:
			return nil
		case attempt == 9:
			if err != nil {
				return err
			}
			return r.expect("register "+name, http.StatusOK)
		case err == nil && r.status != http.StatusServiceUnavailable:
			return r.expect("register "+name, http.StatusOK)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		}
	}
}

// fundWallets gives every buyer a wallet. The REST contract has no way to
// fund one and the payment service's Kitex API has none either (wallets
// are only read and debited), so the harness writes the wallet rows into
// the payment database while the service is stopped, then starts it again:
// the schema is the one the service itself migrated.
func fundWallets(ctx context.Context, s *stack.Stack, dbPath string, buyers []buyer) error {
	p := s.Proc("payment")
	if err := p.Stop(15 * time.Second); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	err = func() error {
		defer db.Close()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for _, b := range buyers {
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO wallet (account_id, money_cents) VALUES (?, ?)
				 ON CONFLICT(account_id) DO UPDATE SET money_cents = excluded.money_cents`, b.id, walletCents); err != nil {
				return fmt.Errorf("fund wallet of %s: %w", b.name, err)
			}
		}
		return tx.Commit()
	}()
	if err != nil {
		return err
	}
	return p.Start(ctx, 30*time.Second)
}

// stock reads the bought product's stockpile through the admin API.
func (f *fixture) stock(ctx context.Context, c *http.Client) (amount, frozen int64, err error) {
	r, err := callSetup(ctx, c, "GET", fmt.Sprintf("%s/restful/products/stockpile/%d", f.gateway, f.buyProduct), f.admin, nil)
	if err != nil {
		return 0, 0, err
	}
	if err := r.expect("stockpile", 200); err != nil {
		return 0, 0, err
	}
	var s struct {
		Amount int64 `json:"amount"`
		Frozen int64 `json:"frozen"`
	}
	return s.Amount, s.Frozen, json.Unmarshal(r.body, &s)
}

// ledger is the bought product's stock as the warehouse and the payment
// database see it.
type ledger struct {
	amount, frozen int64 // the warehouse's stockpile
	paid, waiting  int64 // items of PAYED and of WAITING payments
}

// settled: every paid item has left the stock and only waiting payments
// hold frozen stock (payment's outbox has delivered everything).
func (l ledger) settled() bool {
	return buyStock-l.amount-l.frozen == l.paid && l.frozen == l.waiting
}

func (f *fixture) ledger(ctx context.Context, c *http.Client, paymentDB string) (ledger, error) {
	var l ledger
	var err error
	if l.amount, l.frozen, err = f.stock(ctx, c); err != nil {
		return l, err
	}
	l.paid, l.waiting, err = itemsInStore(ctx, paymentDB, f.buyProduct)
	return l, err
}

// drain waits until the ledger is settled, so that the next run does not
// pay for this one's background work (the outbox's stock decreases).
func (f *fixture) drain(ctx context.Context, c *http.Client, paymentDB string, limit time.Duration) (ledger, error) {
	deadline := time.Now().Add(limit)
	for {
		l, err := f.ledger(ctx, c, paymentDB)
		if err != nil || l.settled() || time.Now().After(deadline) {
			return l, err
		}
		select {
		case <-ctx.Done():
			return l, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// itemsInStore counts the items of PAYED and of WAITING payments in the
// payment database (read while the service runs: WAL lets another process
// read).
func itemsInStore(ctx context.Context, dbPath string, product int64) (paid, waiting int64, err error) {
	db, err := sql.Open("sqlite", dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	var p, w sql.NullInt64
	// A payment keeps its items as a JSON array in its row.
	err = db.QueryRowContext(ctx, `SELECT
		SUM(CASE WHEN p.state = 'PAYED' THEN i.value ->> '$.amount' END),
		SUM(CASE WHEN p.state = 'WAITING' THEN i.value ->> '$.amount' END)
		FROM payment p, json_each(p.items) i WHERE i.value ->> '$.product_id' = ?`, product).Scan(&p, &w)
	return p.Int64, w.Int64, err
}
