package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestFileName(t *testing.T) {
	// kubeconform's {{ .ResourceKind }}{{ .KindSuffix }} for each form.
	tests := []struct{ kind, apiVersion, want string }{
		{"Service", "v1", "service-v1.json"},
		{"Deployment", "apps/v1", "deployment-apps-v1.json"},
		{"NetworkPolicy", "networking.k8s.io/v1", "networkpolicy-networking-v1.json"},
		{"HorizontalPodAutoscaler", "autoscaling/v2", "horizontalpodautoscaler-autoscaling-v2.json"},
	}
	for _, tc := range tests {
		if got := FileName(tc.kind, tc.apiVersion); got != tc.want {
			t.Errorf("FileName(%s, %s) = %s, want %s", tc.kind, tc.apiVersion, got, tc.want)
		}
	}
}

func defs(t *testing.T, src string) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal([]byte(src), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestStandalone(t *testing.T) {
	d := defs(t, `{
	  "x.Thing": {"description": "prose", "type": "object", "x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "Thing"}],
	    "properties": {
	      "description": {"type": "string", "description": "a field that happens to be called description"},
	      "port": {"$ref": "#/definitions/x.IntOrString"},
	      "cpu": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity"},
	      "labels": {"type": "object", "additionalProperties": {"type": "string"}},
	      "spec": {"$ref": "#/definitions/x.Spec"}}},
	  "x.Spec": {"type": "object", "properties": {"replicas": {"type": "integer"}}},
	  "x.IntOrString": {"type": "string", "format": "int-or-string"},
	  "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"}
	}`)
	s, err := standalone(d, "x.Thing")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(s)
	want := `{"additionalProperties":false,"properties":{` +
		`"cpu":{"oneOf":[{"type":"string"},{"type":"number"}]},` +
		`"description":{"type":"string"},` +
		`"labels":{"additionalProperties":{"type":"string"},"type":"object"},` +
		`"port":{"oneOf":[{"type":"string"},{"type":"integer"}]},` +
		`"spec":{"additionalProperties":false,"properties":{"replicas":{"type":"integer"}},"type":"object"}},` +
		`"type":"object"}`
	if string(got) != want {
		t.Errorf("standalone schema\n got %s\nwant %s", got, want)
	}
}

func TestStandaloneRejectsRecursionAndDanglingRefs(t *testing.T) {
	d := defs(t, `{
	  "x.Props": {"type": "object", "properties": {"items": {"$ref": "#/definitions/x.Props"}}},
	  "x.Broken": {"type": "object", "properties": {"a": {"$ref": "#/definitions/x.Nowhere"}}}
	}`)
	if _, err := standalone(d, "x.Props"); err == nil || !strings.Contains(err.Error(), "recursive") {
		t.Errorf("recursive type: err = %v", err)
	}
	if _, err := standalone(d, "x.Broken"); err == nil || !strings.Contains(err.Error(), "dangling") {
		t.Errorf("dangling ref: err = %v", err)
	}
}

func TestDefinitionsByKind(t *testing.T) {
	d := defs(t, `{
	  "io.k8s.api.apps.v1.Deployment": {"x-kubernetes-group-version-kind": [{"group": "apps", "version": "v1", "kind": "Deployment"}]},
	  "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions": {"x-kubernetes-group-version-kind": [
	    {"group": "", "version": "v1", "kind": "DeleteOptions"}, {"group": "apps", "version": "v1", "kind": "DeleteOptions"}]},
	  "io.k8s.api.core.v1.PodSpec": {}
	}`)
	got, err := definitionsByKind(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[gvk{"apps", "v1", "Deployment"}] != "io.k8s.api.apps.v1.Deployment" {
		t.Errorf("definitionsByKind = %v, want only apps/v1 Deployment", got)
	}
}
