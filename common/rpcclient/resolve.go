package rpcclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/cloudwego/kitex/pkg/discovery"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
)

// Lookup resolves a host name to its IP addresses, as
// net.Resolver.LookupHost does. An IP address resolves to itself.
type Lookup func(ctx context.Context, host string) ([]string, error)

// lookupTimeout bounds one resolution: a refresh runs on Kitex's ticker, not
// in a caller's context.
const lookupTimeout = 2 * time.Second

// dnsResolver is the client side of discovery: it resolves the configured
// host:port addresses to one instance per IP address, and Kitex resolves
// again every Config.ResolveInterval and balances calls over the instances.
//
// In a cluster the addresses name headless Services, whose DNS answer is
// the IP of every ready pod. So each pod gets its own connections and its
// share of the calls, a pod that becomes ready gets calls within one
// interval, and one that stops being ready gets none after it. A ClusterIP
// Service would instead hand the client one address; kube-proxy spreads
// connections, not calls, and a busy pool never renews its connections, so
// a replica added under load would get nothing.
type dnsResolver struct {
	hosts  []string // host:port, as configured
	target string   // hosts joined: Kitex asks for it on every call
	lookup Lookup
}

func newDNSResolver(hosts []string, lookup Lookup) *dnsResolver {
	if lookup == nil {
		lookup = net.DefaultResolver.LookupHost
	}
	return &dnsResolver{hosts: hosts, target: strings.Join(hosts, ","), lookup: lookup}
}

// Target is the same for every call of a client: its configured addresses.
func (r *dnsResolver) Target(context.Context, rpcinfo.EndpointInfo) string { return r.target }

// Resolve fails if any name fails to resolve. Kitex then keeps the
// instances it had (on a refresh) or fails the call (on the first): a DNS
// hiccup must not shrink the set to the names that happened to answer.
func (r *dnsResolver) Resolve(ctx context.Context, desc string) (discovery.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	var (
		ins  []discovery.Instance
		seen = map[string]bool{}
	)
	for _, hp := range r.hosts {
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			return discovery.Result{}, err
		}
		ips, err := r.lookup(ctx, host)
		if err != nil {
			return discovery.Result{}, fmt.Errorf("resolve %s: %w", host, err)
		}
		for _, ip := range ips {
			addr := net.JoinHostPort(ip, port)
			if !seen[addr] {
				seen[addr] = true
				ins = append(ins, discovery.NewInstance("tcp", addr, discovery.DefaultWeight, nil))
			}
		}
	}
	if len(ins) == 0 {
		return discovery.Result{}, errors.New("resolve " + desc + ": no addresses")
	}
	return discovery.Result{Cacheable: true, CacheKey: desc, Instances: ins}, nil
}

func (r *dnsResolver) Diff(cacheKey string, prev, next discovery.Result) (discovery.Change, bool) {
	return discovery.DefaultDiff(cacheKey, prev, next)
}

func (r *dnsResolver) Name() string { return "dns" }
