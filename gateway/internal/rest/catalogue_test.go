package rest

import (
	"sync"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
)

func served(k *catalogue, key string) (string, bool) {
	c := app.NewContext(0)
	if !k.serve(c, key) {
		return "", false
	}
	return string(c.Response.Body()), true
}

func TestCatalogueGeneration(t *testing.T) {
	k := newCatalogue(time.Minute)
	gen := k.generation()
	k.keep(keyProducts, gen, []byte("v1"))
	if b, ok := served(k, keyProducts); !ok || b != "v1" {
		t.Fatalf("kept answer not served: %q %v", b, ok)
	}

	// A read that began before a write must not keep what it fetched.
	stale := k.generation()
	k.invalidate()
	if _, ok := served(k, keyProducts); ok {
		t.Fatal("served after invalidate")
	}
	k.keep(keyProducts, stale, []byte("old"))
	if _, ok := served(k, keyProducts); ok {
		t.Fatal("kept an answer fetched before the invalidation")
	}
	k.keep(keyProducts, k.generation(), []byte("v2"))
	if b, _ := served(k, keyProducts); b != "v2" {
		t.Fatalf("got %q", b)
	}
}

func TestCatalogueTTLAndBounds(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	k := newCatalogue(time.Second)
	k.now = func() time.Time { return now }
	k.keep(productKey(1), k.generation(), []byte("p1"))
	now = now.Add(999 * time.Millisecond)
	if _, ok := served(k, productKey(1)); !ok {
		t.Fatal("expired early")
	}
	now = now.Add(time.Millisecond)
	if _, ok := served(k, productKey(1)); ok {
		t.Fatal("served after the ttl")
	}
	for i := range maxKept + 10 {
		k.keep(productKey(int64(i)), k.generation(), []byte("p"))
	}
	if len(k.m) > maxKept {
		t.Fatalf("%d answers kept, bound %d", len(k.m), maxKept)
	}

	var off *catalogue
	off.keep(keyAds, off.generation(), []byte("x"))
	off.invalidate()
	if _, ok := served(off, keyAds); ok {
		t.Fatal("a nil catalogue served")
	}
	if _, ok := served(newCatalogue(0), keyAds); ok {
		t.Fatal("ttl 0 served")
	}
}

// TestCatalogueRace: readers keep what they fetched while writers
// invalidate; whatever the interleaving, once an invalidation has returned
// no answer fetched before it is served (run with -race).
func TestCatalogueRace(t *testing.T) {
	k := newCatalogue(time.Minute)
	var version sync.Mutex
	current := 0
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 500 {
				gen := k.generation()
				version.Lock()
				v := current
				version.Unlock()
				k.keep(keyProducts, gen, []byte{byte(v)})
			}
		})
	}
	for range 200 {
		version.Lock()
		current++
		version.Unlock()
		k.invalidate()
		if b, ok := served(k, keyProducts); ok && int(b[0]) != current%256 {
			t.Fatalf("served version %d after invalidating for %d", b[0], current)
		}
	}
	wg.Wait()
}
