// Command pause is the sandbox ("pause") container of the local cluster: it
// holds a pod's namespaces open and exits on SIGTERM or SIGINT. The public
// registry.k8s.io/pause image cannot be pulled here.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	// As PID 1 of the pod it also reaps the zombies of shared-PID pods.
	signal.Ignore(syscall.SIGCHLD)
	<-sig
}
