package telemetry

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes the store's own metrics (bookstore_...).
const Namespace = "bookstore"

// registry is the process's one metrics registry: a process is one service,
// and Prometheus tells instances apart by their scrape target. It is not
// prometheus.DefaultRegisterer, so libraries that register there behind our
// back do not end up on /metrics unannounced.
var registry = newRegistry()

func newRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return r
}

// Registry is where the process's metrics are registered: the RPC and HTTP
// metrics of this package and its hertztel subpackage, the database pool
// statistics, and each service's business counters.
func Registry() *prometheus.Registry { return registry }

// Handler serves the registry in the Prometheus text format, for the admin
// listener's /metrics.
func Handler() http.Handler {
	return promhttp.HandlerFor(registry, promhttp.HandlerOpts{
		// One failing collector must not hide all the others.
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      registry,
	})
}

// DurationBuckets are the latency buckets, in seconds, of the store's
// duration histograms: from a cached read (1 ms) to the longest RPC
// timeout configured (5 s).
var DurationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
