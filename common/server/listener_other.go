//go:build !unix

package server

import "net"

// NetpollListener: elsewhere Kitex and Hertz do not use netpoll, whose
// listener conversion pollListener avoids (listener.go).
func NetpollListener(ln *net.TCPListener) (net.Listener, error) { return ln, nil }
