// The Kubernetes checks behind `make k8s-check` and `make k8s-schemas`:
// a module of its own (outside go.work), so that none of the services
// depend on it.
module example.com/bookstore/hack/k8s

go 1.26

require (
	github.com/go-sql-driver/mysql v1.8.1
	sigs.k8s.io/yaml v1.4.0
)

require filippo.io/edwards25519 v1.1.0 // indirect
