//go:build !unix

package server

import "net"

// kitexListener: elsewhere Kitex does not use netpoll, whose listener
// conversion pollListener avoids (listener.go).
func kitexListener(ln *net.TCPListener) (net.Listener, error) { return ln, nil }
