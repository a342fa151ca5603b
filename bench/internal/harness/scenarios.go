package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Scenario is one workload, run against the store and the limit server.
type Scenario struct {
	Name string `json:"name"`
	What string `json:"what"`
	// Unit is what one counted operation is: a request, or a flow of
	// several dependent requests.
	Unit string `json:"unit"`
	// Workers is the closed-loop concurrency (peak throughput runs).
	Workers int `json:"workers"`
	// buying scenarios leave outbox work behind; the harness drains it
	// between runs and checks the stock afterwards.
	buying  bool
	targets func(f *fixture, base string) vegeta.Targeter
}

// Scenarios lists every scenario in run order. loginStorm is separate: it
// has no limit-server counterpart.
var Scenarios = []Scenario{
	{Name: "products", What: "GET /restful/products (anonymous)", Unit: "req", Workers: 32,
		targets: func(f *fixture, base string) vegeta.Targeter {
			return vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: base + "/restful/products"})
		}},
	{Name: "product", What: "GET /restful/products/{id}, every seeded id in turn (anonymous)", Unit: "req", Workers: 32,
		targets: func(f *fixture, base string) vegeta.Targeter {
			var ts []vegeta.Target
			for _, id := range f.products {
				ts = append(ts, vegeta.Target{Method: "GET", URL: fmt.Sprintf("%s/restful/products/%d", base, id)})
			}
			return vegeta.NewStaticTargeter(ts...)
		}},
	{Name: "ads", What: "GET /restful/advertisements (anonymous)", Unit: "req", Workers: 32,
		targets: func(f *fixture, base string) vegeta.Targeter {
			return vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: base + "/restful/advertisements"})
		}},
	{Name: "token", What: "GET /oauth/token password grant, buyers in turn (bcrypt cost 10)", Unit: "req", Workers: 8,
		targets: func(f *fixture, base string) vegeta.Targeter {
			var ts []vegeta.Target
			for _, b := range f.buyers {
				ts = append(ts, vegeta.Target{Method: "GET", URL: base + "/oauth/token?" + tokenQuery(b.name, buyerWire)})
			}
			return vegeta.NewStaticTargeter(ts...)
		}},
	{Name: "settle_pay", What: "POST /restful/settlements (1 item) then PATCH /restful/pay/{payId}?state=PAYED, buyers in turn", Unit: "flow", Workers: 16, buying: true,
		targets: flowTargets("settle_pay")},
	{Name: "mixed", What: "storefront session: ads, products, 2 x product/{id}, accounts/{me}, settle, pay (7 requests, logged in)", Unit: "flow", Workers: 16, buying: true,
		targets: flowTargets("mixed")},
}

func flowTargets(name string) func(f *fixture, base string) vegeta.Targeter {
	return func(f *fixture, base string) vegeta.Targeter {
		ts := make([]vegeta.Target, len(f.buyers))
		for i := range ts {
			ts[i] = vegeta.Target{Method: flowMethod, URL: flowURL(base, name, i)}
		}
		return vegeta.NewStaticTargeter(ts...)
	}
}

// flows are the multi-request units of the buying scenarios.
func (f *fixture) flows() map[string]flowFunc {
	return map[string]flowFunc{
		"settle_pay": func(ctx context.Context, c *http.Client, base string, arg int) (int, error) {
			return f.buy(ctx, c, base, f.buyers[arg%len(f.buyers)])
		},
		"mixed": func(ctx context.Context, c *http.Client, base string, arg int) (int, error) {
			b := f.buyers[arg%len(f.buyers)]
			n := len(f.products)
			for _, path := range []string{
				"/restful/advertisements",
				"/restful/products",
				fmt.Sprintf("/restful/products/%d", f.products[arg%n]),
				fmt.Sprintf("/restful/products/%d", f.products[(arg+3)%n]),
				"/restful/accounts/" + b.name,
			} {
				if _, err := step(ctx, c, "GET "+path, "GET", base+path, b.token, nil); err != nil {
					return 0, err
				}
			}
			return f.buy(ctx, c, base, b)
		},
	}
}

// buy settles one item and pays for it.
func (f *fixture) buy(ctx context.Context, c *http.Client, base string, b buyer) (int, error) {
	body, err := step(ctx, c, "settle", "POST", base+"/restful/settlements", b.token, f.settleBody)
	if err != nil {
		return 0, err
	}
	var p struct {
		PayID string `json:"payId"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.PayID == "" {
		return 0, &stepError{step: "settle", status: 598, body: string(body)}
	}
	if _, err := step(ctx, c, "pay", "PATCH", base+"/restful/pay/"+p.PayID+"?state=PAYED", b.token, nil); err != nil {
		return 0, err
	}
	return 1, nil
}

// loginStorm measures whether logins starve the other routes: storefront
// reads (products, and the account route, which lives in the same process
// as bcrypt) at a fixed rate, alone and then while stormWorkers clients
// log in as fast as they can.
const (
	loginStormName = "login_storm"
	stormWorkers   = 16
	stormRate      = 200
)

func stormForeground(f *fixture) vegeta.Targeter {
	var ts []vegeta.Target
	for _, b := range f.buyers {
		h := http.Header{"Authorization": {"bearer " + b.token}}
		ts = append(ts,
			vegeta.Target{Method: "GET", URL: f.gateway + "/restful/products"},
			vegeta.Target{Method: "GET", URL: f.gateway + "/restful/accounts/" + b.name, Header: h})
	}
	return vegeta.NewStaticTargeter(ts...)
}
