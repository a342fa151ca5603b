// This file is not compiled where it lies (testdata). manifestcheck adds it to
// each service's internal/config package with `go test -overlay`, so that it
// runs inside that package and loads the service's own typed Config, without
// a file of the checks living in the service's tree. The package clause
// matches theirs.
package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	commonconfig "example.com/bookstore/common/config"
)

// k8sCase is what the checker found in a Deployment: the ConfigMap's file as
// mounted, the container's environment with Secrets and $(VAR) resolved, and
// which of those variables are meant as config overrides.
type k8sCase struct {
	Workload   string   `json:"workload"`
	ConfigPath string   `json:"configPath"`
	Env        []k8sEnv `json:"env"`
	Overrides  []string `json:"overrides"`
	Out        string   `json:"out"`
}

type k8sEnv struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TestK8sManifest loads the service's Config the way its pod will: the
// mounted file, then the environment. Unknown file keys and invalid values
// fail here (config.Load); environment variables that are not config keys
// fail too, since the loader would silently ignore them.
func TestK8sManifest(t *testing.T) {
	casesFile := os.Getenv("K8SCHECK_CASES")
	if casesFile == "" {
		t.Skip("run by make k8s-check")
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	service := filepath.Base(filepath.Dir(filepath.Dir(wd))) // <service>/internal/config
	raw, err := os.ReadFile(casesFile)
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]k8sCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	c, ok := cases[service]
	if !ok {
		t.Fatalf("no case for service %q in %s", service, casesFile)
	}
	for _, e := range c.Env {
		t.Setenv(e.Name, e.Value)
	}

	keys := k8sConfigKeys(reflect.TypeFor[Config](), "", false)
	for _, name := range c.Overrides {
		k, declared := keys[name]
		switch {
		case !declared:
			t.Errorf("%s: env %s is not a key of the %s config, so the service ignores it (a typo? keys: %s)",
				c.Workload, name, service, strings.Join(k8sSortedKeys(keys), ", "))
		case k.hot:
			t.Errorf("%s: env %s overrides %s, which is hot-reloadable: with the value pinned in the environment, "+
				"editing the ConfigMap could never change it; set it in config.toml instead", c.Workload, name, k.key)
		}
	}

	cfg, err := commonconfig.Load[Config](c.ConfigPath)
	if err != nil {
		t.Fatalf("%s: the ConfigMap's config.toml with the Deployment's environment does not load: %v", c.Workload, err)
	}
	out, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.Out, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

type k8sKey struct {
	key string
	hot bool
}

// k8sConfigKeys maps the environment variable of every key Config declares
// to that key, following common/config's rules: mapstructure names, ",squash"
// lifts fields, "hot" applies to a whole subtree, maps and leaves are keys.
func k8sConfigKeys(t reflect.Type, prefix string, hot bool) map[string]k8sKey {
	out := map[string]k8sKey{}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		squash := slices.Contains(strings.Split(opts, ","), "squash")
		if name == "-" || (!f.IsExported() && !(squash && f.Anonymous)) {
			continue
		}
		fhot := hot || f.Tag.Get("hot") == "true"
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if squash && ft.Kind() == reflect.Struct {
			for k, v := range k8sConfigKeys(ft, prefix, fhot) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		key := strings.ToLower(name)
		if prefix != "" {
			key = prefix + "." + key
		}
		if ft.Kind() == reflect.Struct && k8sHasExported(ft) {
			for k, v := range k8sConfigKeys(ft, key, fhot) {
				out[k] = v
			}
			continue
		}
		out[strings.ToUpper(strings.ReplaceAll(key, ".", "_"))] = k8sKey{key: key, hot: fhot}
	}
	return out
}

func k8sHasExported(t reflect.Type) bool {
	for i := range t.NumField() {
		if t.Field(i).IsExported() {
			return true
		}
	}
	return false
}

func k8sSortedKeys(m map[string]k8sKey) []string {
	var names []string
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}
