// Command bookstore-run is `make run`: it builds the four services, starts
// them on SQLite with the local config files (data under ./data, kept between
// runs), waits until each is ready, prints the store's URL, and on Ctrl-C
// stops them all gracefully.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"example.com/bookstore/e2e/stack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bookstore-run:", err)
		os.Exit(1)
	}
}

func run() error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := stack.RepoRoot(wd)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	bin := filepath.Join(root, "bin")
	fmt.Println("building services into", bin, "...")
	t0 := time.Now()
	if err := stack.Build(ctx, root, bin, false); err != nil {
		return err
	}
	fmt.Printf("built in %s; starting account, warehouse, payment, gateway ...\n", time.Since(t0).Round(time.Millisecond))

	s, err := stack.Start(ctx, stack.Options{
		Root:    root,
		BinDir:  bin,
		DataDir: filepath.Join(root, "data"),
		Log:     stack.SyncWriter(os.Stdout),
	})
	if err != nil {
		return err
	}
	fmt.Printf("\nThe bookstore is ready at http://localhost:8080 (REST API under /restful, tokens at /oauth/token).\n")
	fmt.Printf("Data lives in %s. Press Ctrl-C to stop.\n\n", filepath.Join(root, "data"))
	<-ctx.Done()
	fmt.Println("\nstopping ...")
	return s.Stop()
}
