package freeport

import (
	"net"
	"strconv"
	"testing"
)

// TestAddrIsBindableAndOutsideEphemeralRange: the address can be listened
// on, and on Linux it is not one the kernel would pick as a source port.
func TestAddrIsBindableAndOutsideEphemeralRange(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		a, err := Addr()
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatalf("%s is not free: %v", a, err)
		}
		ln.Close()
		_, p, _ := net.SplitHostPort(a)
		port, _ := strconv.Atoi(p)
		if lo := ephemeralLow(); lo > minPort+1000 && (port < minPort || port >= lo) {
			t.Fatalf("port %d outside [%d, %d)", port, minPort, lo)
		}
		seen[a] = true
	}
	if len(seen) < 40 {
		t.Errorf("only %d distinct addresses in 50 picks", len(seen))
	}
}
