// Package rpcclient holds the Kitex client options every caller in the store
// uses: where the service is, how long to wait, and the TTHeader transport
// that carries business status errors and auth metainfo.
package rpcclient

import (
	"strings"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/pkg/transmeta"
	"github.com/cloudwego/kitex/transport"
)

// Config is one downstream service's section, e.g. [clients.warehouse].
type Config struct {
	// Addr is host:port, a Kubernetes Service DNS name in a cluster
	// ("warehouse:8820") or 127.0.0.1 locally. Several addresses may be
	// given, comma-separated; calls are balanced across them.
	Addr           string        `mapstructure:"addr" validate:"required"`
	ConnectTimeout time.Duration `mapstructure:"connect_timeout" hot:"true"`
	RPCTimeout     time.Duration `mapstructure:"rpc_timeout" hot:"true"`
}

// Options returns the client options for cfg.
func Options(cfg Config) []client.Option {
	connect, rpc := cfg.ConnectTimeout, cfg.RPCTimeout
	if connect <= 0 {
		connect = time.Second
	}
	if rpc <= 0 {
		rpc = 3 * time.Second
	}
	var hosts []string
	for _, h := range strings.Split(cfg.Addr, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return []client.Option{
		client.WithHostPorts(hosts...),
		client.WithTransportProtocol(transport.TTHeader),
		client.WithMetaHandler(transmeta.ClientTTHeaderHandler),
		client.WithConnectTimeout(connect),
		client.WithRPCTimeout(rpc),
	}
}
