package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const testOverlay = `apiVersion: v1
kind: Secret
metadata: {name: db-abc123}
data: {password: czNjcjN0}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    metadata: {labels: {app.kubernetes.io/name: api}}
    spec:
      containers:
        - name: api
          ports: [{name: rpc, containerPort: 8810}, {name: admin, containerPort: 9810}]
          env:
            - {name: CONFIG_PATH, value: /etc/x/config.toml}
            - name: MYSQL_PASSWORD
              valueFrom: {secretKeyRef: {name: db-abc123, key: password}}
            - {name: DB_DSN, value: "api:$(MYSQL_PASSWORD)@tcp(db:3306)/api"}
            - {name: GOMAXPROCS, value: "2"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata: {labels: {app.kubernetes.io/name: web}}
    spec:
      containers: [{name: web}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: batch}
spec:
  template:
    metadata: {labels: {app.kubernetes.io/name: batch}}
    spec:
      containers: [{name: batch}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api}
spec:
  podSelector: {matchLabels: {app.kubernetes.io/name: api}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {app.kubernetes.io/name: web}}}]
      ports: [{port: rpc, protocol: TCP}]
    - ports: [{port: 9810}]
`

func loadTestOverlay(t *testing.T) *overlay {
	t.Helper()
	file := filepath.Join(t.TempDir(), "rendered.yaml")
	if err := os.WriteFile(file, []byte(testOverlay), 0o600); err != nil {
		t.Fatal(err)
	}
	o, errs, err := load("test", file)
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	return o
}

func (o *overlay) workload(t *testing.T, app string) *workload {
	t.Helper()
	for _, w := range o.workloads {
		if w.app == app {
			return w
		}
	}
	t.Fatalf("no workload %s", app)
	return nil
}

func TestResolveEnv(t *testing.T) {
	o := loadTestOverlay(t)
	env, overrides, err := resolveEnv(o, o.workload(t, "api").Spec.Template.Spec.Containers[0])
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, e := range env {
		values[e.Name] = e.Value
	}
	if got, want := values["DB_DSN"], "api:s3cr3t@tcp(db:3306)/api"; got != want {
		t.Errorf("DB_DSN = %q, want %q (secret resolved and expanded)", got, want)
	}
	// MYSQL_PASSWORD only feeds DB_DSN; CONFIG_PATH and GOMAXPROCS are not config keys.
	if want := []string{"DB_DSN"}; !slices.Equal(overrides, want) {
		t.Errorf("overrides = %v, want %v", overrides, want)
	}
}

func TestResolveEnvMissingSecretKey(t *testing.T) {
	o := loadTestOverlay(t)
	c := o.workload(t, "api").Spec.Template.Spec.Containers[0]
	c.Env[1].ValueFrom.SecretKeyRef.Key = "passwd"
	if _, _, err := resolveEnv(o, c); err == nil || !strings.Contains(err.Error(), `no key "passwd"`) {
		t.Errorf("err = %v, want a missing key error", err)
	}
}

func TestAllows(t *testing.T) {
	o := loadTestOverlay(t)
	api, web, batch := o.workload(t, "api"), o.workload(t, "web"), o.workload(t, "batch")
	tests := []struct {
		name     string
		from, to *workload
		port     int
		want     bool
	}{
		{"the allowed peer on the named port", web, api, 8810, true},
		{"another pod on that port", batch, api, 8810, false},
		{"the allowed peer on a port its rule does not name", web, api, 8811, false},
		{"any pod on the port open to all", batch, api, 9810, true},
		{"a pod no policy selects", api, web, 8080, true},
	}
	for _, tc := range tests {
		if got := allows(o, tc.from, tc.to, tc.port); got != tc.want {
			t.Errorf("%s: allows = %v, want %v", tc.name, got, tc.want)
		}
	}
}
