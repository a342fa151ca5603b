package degrade

import (
	"testing"
	"time"
)

// TestRepeatedAnswerRefreshesCopy: an answer equal to the copy kept only
// moves the copy's time (and so its Age); the list is not copied and split
// again on every read, which cost the gateway more than serving it.
func TestRepeatedAnswerRefreshesCopy(t *testing.T) {
	f := newFixture()
	f.get("/restful/products")
	kept := func() *byte {
		f.k.mu.RLock()
		defer f.k.mu.RUnlock()
		return &f.k.copies[routeProducts].body[0]
	}
	first := kept()
	f.now = f.now.Add(42 * time.Second)
	f.get("/restful/products")
	if kept() != first {
		t.Fatal("an unchanged list was copied again")
	}
	f.now = f.now.Add(3 * time.Second)
	f.down.Store(true)
	if w := f.get("/restful/products"); w.Body.String() != list || w.Header().Get("Age") != "3" {
		t.Fatalf("stale list: %s age=%q, want age 3", w.Body.String(), w.Header().Get("Age"))
	}
}
