# A real single-node Kubernetes cluster on this machine (hack/local-cluster):
# no kind, nothing pulled, every address on bridges the scripts create. Needs
# root. The first run builds the pinned binaries (minutes); they stay in
# ~/.cache/bookstore-cluster.

cluster-up: ## start the local cluster (then: source /tmp/bookstore-cluster/env)
	@hack/local-cluster/up.sh

cluster-down: ## stop the local cluster and undo every change up made to the machine
	@hack/local-cluster/down.sh

cluster-e2e: ## up, skaffold run, wait for rollouts, e2e + cluster tests against the NodePort, down
	@hack/local-cluster/e2e.sh

.PHONY: cluster-up cluster-down cluster-e2e
