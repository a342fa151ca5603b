// Command readyserver is proctest's test subject: it serves /readyz on
// $ADDR, prints $GREETING and its working directory, and on SIGTERM exits
// with $EXIT_CODE. With FAIL_FAST set it exits at once with status 3.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

func main() {
	if os.Getenv("FAIL_FAST") != "" {
		fmt.Println("failing fast")
		os.Exit(3)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	wd, _ := os.Getwd()
	fmt.Printf("greeting=%s wd=%s\n", os.Getenv("GREETING"), wd)

	ln, err := net.Listen("tcp", os.Getenv("ADDR"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	go http.Serve(ln, mux)

	<-sig
	code, _ := strconv.Atoi(os.Getenv("EXIT_CODE"))
	fmt.Println("got SIGTERM")
	os.Exit(code)
}
