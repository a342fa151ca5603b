# shellcheck shell=bash disable=SC2034 # used by the scripts that source it
# Shared settings of up.sh and down.sh. Every address is on the two bridges
# up.sh creates (the node's and the pods') or on 127.0.0.1.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# The cluster's state: removed by down.sh.
STATE=${BOOKSTORE_CLUSTER_DIR:-/tmp/bookstore-cluster}
# Binaries and the Docker build cache: kept between runs on the same machine.
CACHE=${BOOKSTORE_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bookstore-cluster}

NODE_BRIDGE=bsknode0
NODE_IP=10.244.91.1
POD_BRIDGE=bskcni0
POD_CIDR=10.88.91.0/24
POD_GW=10.88.91.1
SERVICE_CIDR=10.109.0.0/16
NODE_NAME=bookstore-node
ETCD_PORT=32379
ETCD_PEER_PORT=32380
API_PORT=36443
REGISTRY=127.0.0.1:35001
GOPROXY_ADDR=127.0.0.1:35002
GATEWAY_NODEPORT=30080

# Kernel settings the kubelet, kube-proxy and the bridge plugin change; down.sh
# puts back the values up.sh found.
SYSCTLS=(
	vm.overcommit_memory kernel.panic kernel.panic_on_oops
	net.ipv4.ip_forward net.ipv4.conf.all.route_localnet
	net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
	net.netfilter.nf_conntrack_max
	net.netfilter.nf_conntrack_tcp_timeout_established net.netfilter.nf_conntrack_tcp_timeout_close_wait
)

# Debian's docker client: the newer one on PATH cannot use BuildKit without buildx.
DOCKER=/usr/bin/docker

log() { printf '%s local-cluster: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
