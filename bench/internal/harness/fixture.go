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
	_ "github.com/glebarez/go-sqlite"

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
	sem := make(chan struct{}, 4)
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
			r, err := callSetup(ctx, c, "POST", gateway+"/restful/accounts", "", body)
			if err == nil {
				err = r.expect("register "+name, 200)
			}
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

// drain waits until no stock of the bought product is frozen: every paid
// flow's decrease has reached the warehouse (payment's outbox is empty), so
// the next run does not pay for this one's background work.
func (f *fixture) drain(ctx context.Context, c *http.Client, limit time.Duration) (frozen int64, err error) {
	deadline := time.Now().Add(limit)
	for {
		_, frozen, err = f.stock(ctx, c)
		if err != nil || frozen == 0 || time.Now().After(deadline) {
			return frozen, err
		}
		select {
		case <-ctx.Done():
			return frozen, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// paidInStore counts the items of PAYED payments in the payment database
// (read while the service runs: WAL lets another process read).
func paidInStore(ctx context.Context, dbPath string, product int64) (int64, error) {
	db, err := sql.Open("sqlite", dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n sql.NullInt64
	err = db.QueryRowContext(ctx, `SELECT SUM(i.amount) FROM payment p JOIN payment_item i ON i.pay_id = p.pay_id
		WHERE p.state = 'PAYED' AND i.product_id = ?`, product).Scan(&n)
	return n.Int64, err
}
