//go:build unix

package server

import (
	"fmt"
	"net"
	"sync"
	"syscall"
)

// pollListener hands netpoll (under Kitex and Hertz) the socket of a *net.TCPListener as it
// is, so that netpoll does not convert the listener itself.
//
// Why: netpoll's conversion (ConvertListener, netpoll v0.7.2) takes a dup of
// the socket through File(), and its Close closes that dup twice: once by
// number (syscall.Close), then through the os.File. Whatever the process
// opened in between under the same number is closed by the second call. We
// saw it hit a MySQL connection at shutdown ("close tcp ...: bad file
// descriptor", exit 1), and it could as well hit a database file. Here the
// Go listener owns the socket and closes it once.
type pollListener struct {
	ln   *net.TCPListener
	fd   int // ln's socket, valid while ln is open
	once sync.Once
	err  error
}

// NetpollListener is the listener to give a netpoll server (Kitex's, or
// Hertz's) for ln: a pollListener, which netpoll polls and accepts from.
func NetpollListener(ln *net.TCPListener) (net.Listener, error) {
	rc, err := ln.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("server: listener fd: %w", err)
	}
	l := &pollListener{ln: ln, fd: -1}
	if err := rc.Control(func(fd uintptr) { l.fd = int(fd) }); err != nil {
		return nil, fmt.Errorf("server: listener fd: %w", err)
	}
	return l, nil
}

// Fd is the socket netpoll polls (netpoll.Listener).
func (l *pollListener) Fd() int { return l.fd }

// Accept takes one pending connection without blocking, as netpoll expects:
// nil, nil when there is none. Go keeps the socket non-blocking.
func (l *pollListener) Accept() (net.Conn, error) {
	// As the net package does without accept4: no fork may inherit the
	// new socket between accept and close-on-exec.
	syscall.ForkLock.RLock()
	fd, sa, err := syscall.Accept(l.fd)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err == syscall.EAGAIN || err == syscall.EWOULDBLOCK {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// netpoll sets TCP_NODELAY only on connections it accepted itself;
	// without it, small answers wait for the peer's delayed ACK.
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("server: TCP_NODELAY: %w", err)
	}
	return &acceptedConn{fd: fd, local: l.ln.Addr(), remote: sockaddrAddr(sa)}, nil
}

// Close closes the socket once, through the Go listener.
func (l *pollListener) Close() error {
	l.once.Do(func() { l.err = l.ln.Close() })
	return l.err
}

func (l *pollListener) Addr() net.Addr { return l.ln.Addr() }

// acceptedConn carries a new connection's socket to netpoll, which takes the
// fd and the addresses and from then on owns the socket. Only Close is ever
// called on it, when netpoll fails to set the connection up.
type acceptedConn struct {
	fd            int
	local, remote net.Addr
	net.Conn      // nil: the rest of net.Conn is never used
}

func (c *acceptedConn) Fd() int              { return c.fd }
func (c *acceptedConn) LocalAddr() net.Addr  { return c.local }
func (c *acceptedConn) RemoteAddr() net.Addr { return c.remote }
func (c *acceptedConn) Close() error         { return syscall.Close(c.fd) }

func sockaddrAddr(sa syscall.Sockaddr) net.Addr {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: net.IPv4(sa.Addr[0], sa.Addr[1], sa.Addr[2], sa.Addr[3]), Port: sa.Port}
	case *syscall.SockaddrInet6:
		zone := ""
		if sa.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				zone = ifi.Name
			}
		}
		return &net.TCPAddr{IP: append(net.IP(nil), sa.Addr[:]...), Port: sa.Port, Zone: zone}
	}
	return &net.TCPAddr{}
}
