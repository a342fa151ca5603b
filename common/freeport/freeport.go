// Package freeport finds loopback ports for tests and local stacks that
// start real servers on ports they choose before the server binds them.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
)

// minPort keeps Addr clear of well-known and registered service ports.
const minPort = 20000

// Addr returns a 127.0.0.1 address that was free a moment ago.
//
// It prefers a port below the kernel's ephemeral range. A port the kernel
// hands out for 127.0.0.1:0 may be handed out again, as the source port of
// any outgoing connection, before the server binds it, and a machine that
// runs load tests opens thousands of those; a port below the range can only
// be taken by another listener choosing at random as well.
func Addr() (string, error) {
	if lo := ephemeralLow(); lo > minPort+1000 {
		for range 20 {
			if a, err := try(fmt.Sprintf("127.0.0.1:%d", minPort+rand.IntN(lo-minPort))); err == nil {
				return a, nil
			}
		}
	}
	return try("127.0.0.1:0")
}

func try(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// ephemeralLow is the first port of the kernel's ephemeral range, or 0
// where that is unknown (not Linux).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	var lo, hi int
	if _, err := fmt.Sscan(string(b), &lo, &hi); err != nil {
		return 0
	}
	return lo
}
