package rpcclient

import (
	"github.com/cloudwego/kitex/client"

	"example.com/bookstore/common/telemetry"
)

// observe is what every client gets for observability: a span per call whose
// trace context travels to the callee in metainfo, and the RED metrics of
// the calls (common/telemetry). Its middleware comes before the others, so
// it also sees the calls a circuit breaker refuses; Kitex runs the whole
// middleware chain once per attempt, so each retry is a span of its own.
func observe() []client.Option {
	return telemetry.ClientOptions()
}
