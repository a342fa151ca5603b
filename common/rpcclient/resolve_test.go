package rpcclient

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func addrs(t *testing.T, r *dnsResolver) []string {
	t.Helper()
	res, err := r.Resolve(context.Background(), r.Target(context.Background(), nil))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, in := range res.Instances {
		out = append(out, in.Address().String())
	}
	return out
}

// TestResolveEveryAddress: each configured name becomes one instance per
// address it resolves to, without duplicates; an IP literal stays itself
// through the system's resolver.
func TestResolveEveryAddress(t *testing.T) {
	names := map[string][]string{"warehouse": {"10.0.0.1", "10.0.0.2"}, "warehouse-b": {"10.0.0.2", "fd00::3"}}
	lookup := func(_ context.Context, host string) ([]string, error) {
		if ips, ok := names[host]; ok {
			return ips, nil
		}
		return nil, errors.New("no such host " + host)
	}
	got := addrs(t, newDNSResolver([]string{"warehouse:8820", "warehouse-b:8820"}, lookup))
	want := []string{"10.0.0.1:8820", "10.0.0.2:8820", "[fd00::3]:8820"}
	if !slices.Equal(got, want) {
		t.Fatalf("instances %v, want %v", got, want)
	}
	if got := addrs(t, newDNSResolver([]string{"127.0.0.1:8820"}, nil)); !slices.Equal(got, []string{"127.0.0.1:8820"}) {
		t.Fatalf("IP literal resolved to %v", got)
	}

	// One name failing fails the whole resolution, so that Kitex keeps the
	// set it had rather than a partial one.
	r := newDNSResolver([]string{"warehouse:8820", "gone:8820"}, lookup)
	if res, err := r.Resolve(context.Background(), r.Target(context.Background(), nil)); err == nil {
		t.Fatalf("a failed name resolved to %v", res.Instances)
	}
	r = newDNSResolver([]string{"empty:8820"}, func(context.Context, string) ([]string, error) { return nil, nil })
	if _, err := r.Resolve(context.Background(), r.Target(context.Background(), nil)); err == nil {
		t.Fatal("an empty answer resolved")
	}
}
