# The Kubernetes delivery's targets (k8s/, skaffold.yaml, Dockerfile.base);
# included by the Makefile. Both need only Go: the pinned tools are built
# into bin/ on first use (hack/k8s/tools.sh).

k8s-check: ## offline checks of k8s/ + skaffold.yaml: kustomize, kubeconform -strict, manifests vs configs, skaffold render
	@hack/k8s/check.sh

k8s-schemas: ## regenerate k8s/schemas (strict JSON schemas of the kinds in use) from Kubernetes' OpenAPI
	@hack/k8s/schemas.sh

.PHONY: k8s-check k8s-schemas
