//go:build unix

package server

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

func listen(t *testing.T) *pollListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	kl, err := NetpollListener(ln.(*net.TCPListener))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kl.Close() })
	return kl.(*pollListener)
}

// TestPollListenerAccepts: a pending connection is accepted without
// blocking, with its addresses and TCP_NODELAY; none pending is nil, nil.
func TestPollListenerAccepts(t *testing.T) {
	l := listen(t)
	if c, err := l.Accept(); c != nil || err != nil {
		t.Fatalf("Accept with nothing pending = %v, %v", c, err)
	}
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var c net.Conn
	for deadline := time.Now().Add(5 * time.Second); c == nil; time.Sleep(time.Millisecond) {
		if c, err = l.Accept(); err != nil || time.Now().After(deadline) {
			t.Fatalf("Accept = %v, %v", c, err)
		}
	}
	defer c.Close()
	if c.RemoteAddr().String() != client.LocalAddr().String() || c.LocalAddr().String() != client.RemoteAddr().String() {
		t.Errorf("accepted %v -> %v, dialled %v -> %v", c.RemoteAddr(), c.LocalAddr(), client.LocalAddr(), client.RemoteAddr())
	}
	fd := c.(interface{ Fd() int }).Fd()
	if v, err := syscall.GetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY); err != nil || v == 0 {
		t.Errorf("TCP_NODELAY = %d, %v", v, err)
	}
	// The socket is the connection's: what one side writes the other reads.
	if _, err := syscall.Write(fd, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := client.Read(buf); err != nil || string(buf) != "hi" {
		t.Errorf("read %q, %v", buf, err)
	}
}

// TestPollListenerClosesOnce: a second Close must not close whatever the
// process opened since under the socket's old number, which netpoll's own
// listener conversion does.
func TestPollListenerClosesOnce(t *testing.T) {
	l := listen(t)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(os.DevNull) // likely takes the socket's number
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_ = l.Close()
	if _, err := f.Stat(); err != nil {
		t.Fatalf("a file opened after the first Close broke with the second: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("a file opened after the first Close was closed by the second: %v", err)
	}
}
