package manifest

import (
	"slices"
	"testing"
)

func TestExpandEnv(t *testing.T) {
	defined := map[string]string{"USER": "account", "PASSWORD": "p@ss"}
	tests := []struct{ in, want string }{
		{"$(USER):$(PASSWORD)@tcp(mysql:3306)/account", "account:p@ss@tcp(mysql:3306)/account"},
		{"$(MISSING)/x", "$(MISSING)/x"}, // undefined: kept as written
		{"$$(USER)", "$(USER)"},          // $$ escapes
		{"cost: $5", "cost: $5"},         // a lone $ is literal
		{"$(USER", "$(USER"},             // unterminated
		{"trailing $", "trailing $"},
	}
	for _, tc := range tests {
		if got := ExpandEnv(tc.in, defined); got != tc.want {
			t.Errorf("ExpandEnv(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestReferences(t *testing.T) {
	got := References("$(A):$(B)@x/$$(C)/$(A")
	if want := []string{"A", "B"}; !slices.Equal(got, want) {
		t.Errorf("References = %v, want %v", got, want)
	}
}

func TestSplit(t *testing.T) {
	stream := []byte(`# a comment-only document
---
apiVersion: v1
kind: Service
metadata:
  name: account
  namespace: bookstore
---

--- # an empty one
apiVersion: apps/v1
kind: Deployment
metadata:
  name: account
`)
	objs, err := Split(stream)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range objs {
		ids = append(ids, o.ID())
	}
	if want := []string{"Service bookstore/account", "Deployment account"}; !slices.Equal(ids, want) {
		t.Errorf("objects = %v, want %v", ids, want)
	}
	if _, err := Split([]byte("kind: [unclosed")); err == nil {
		t.Error("Split accepted invalid YAML")
	}
}

func TestLabelSelector(t *testing.T) {
	pod := map[string]string{"app.kubernetes.io/name": "payment", "tier": "backend"}
	sel := func(op string, values ...string) LabelSelector {
		var s LabelSelector
		s.MatchExpressions = append(s.MatchExpressions, struct {
			Key      string   `json:"key"`
			Operator string   `json:"operator"`
			Values   []string `json:"values"`
		}{"app.kubernetes.io/name", op, values})
		return s
	}
	tests := []struct {
		name string
		sel  LabelSelector
		want bool
	}{
		{"empty selects all", LabelSelector{}, true},
		{"matchLabels hit", LabelSelector{MatchLabels: map[string]string{"tier": "backend"}}, true},
		{"matchLabels miss", LabelSelector{MatchLabels: map[string]string{"tier": "front"}}, false},
		{"In", sel("In", "account", "payment"), true},
		{"In miss", sel("In", "account"), false},
		{"NotIn", sel("NotIn", "gateway"), true},
		{"NotIn miss", sel("NotIn", "payment"), false},
		{"Exists", sel("Exists"), true},
		{"DoesNotExist", sel("DoesNotExist"), false},
		{"unknown operator never matches", sel("Near", "payment"), false},
	}
	for _, tc := range tests {
		if got := tc.sel.Matches(pod); got != tc.want {
			t.Errorf("%s: Matches = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestProbeBudgetDefaults(t *testing.T) {
	if got := (&Probe{}).Budget(); got != 30 {
		t.Errorf("default budget = %d, want 30 (10s x 3)", got)
	}
	if got := (&Probe{PeriodSeconds: 5, FailureThreshold: 66, InitialDelaySeconds: 2}).Budget(); got != 332 {
		t.Errorf("budget = %d, want 332", got)
	}
}

func TestPortNumber(t *testing.T) {
	objs, err := Split([]byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  template:
    spec:
      containers:
        - name: x
          ports: [{name: rpc, containerPort: 8810}]
          readinessProbe: {httpGet: {path: /readyz, port: rpc}}
          livenessProbe: {tcpSocket: {port: 9810}}
`))
	if err != nil {
		t.Fatal(err)
	}
	var w Workload
	if err := objs[0].Decode(&w); err != nil {
		t.Fatal(err)
	}
	c := w.Spec.Template.Spec.Containers[0]
	byName, _ := c.ReadinessProbe.Port()
	byNumber, _ := c.LivenessProbe.Port()
	if n, ok := c.PortNumber(byName); !ok || n != 8810 {
		t.Errorf("named port = %d, %v; want 8810", n, ok)
	}
	if n, ok := c.PortNumber(byNumber); !ok || n != 9810 {
		t.Errorf("numbered port = %d, %v; want 9810", n, ok)
	}
	if _, ok := c.PortNumber(IntOrString{Str: "admin"}); ok {
		t.Error("an undeclared port name resolved")
	}
}
