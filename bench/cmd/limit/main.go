// Command limit is the benchmark's limit server: a bare Hertz server that
// answers every request with the bytes the real gateway sent for it, as
// recorded by the harness. Whatever the store does beyond reading a request
// and writing those bytes is the price of the microservice hops, and its
// req/s on the same machine is the ceiling the store is measured against.
//
// Usage: limit -addr 127.0.0.1:0 -responses capture.json (prints the bound
// address on stdout).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"

	"example.com/bookstore/bench/internal/capture"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	file := flag.String("responses", "", "the recorded responses (JSON)")
	flag.Parse()
	if err := run(*addr, *file); err != nil {
		fmt.Fprintln(os.Stderr, "limit:", err)
		os.Exit(1)
	}
}

func run(addr, file string) error {
	rs, err := capture.Load(file)
	if err != nil {
		return err
	}
	set := capture.NewSet(rs)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hlog.SetLevel(hlog.LevelWarn)
	h := server.New(server.WithListener(ln), server.WithDisablePrintRoute(true), server.WithExitWaitTime(time.Second))
	h.Any("/*path", func(_ context.Context, c *app.RequestContext) {
		r := set.Find(string(c.Method()), string(c.Path()))
		if r == nil {
			c.SetStatusCode(404)
			return
		}
		for k, v := range r.Header {
			c.Response.Header.Set(k, v)
		}
		c.Response.SetStatusCode(r.Status)
		c.Response.SetBodyRaw(r.Body)
	})
	fmt.Println(ln.Addr().String())
	// Spin serves until SIGTERM or SIGINT, then shuts down.
	h.Spin()
	return nil
}
