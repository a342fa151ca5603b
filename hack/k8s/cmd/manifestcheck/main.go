// Command manifestcheck checks what schemas cannot: that the rendered
// manifests of an overlay and the services' configs agree, and that the
// workloads follow the store's rules. For each overlay it
//
//   - checks every workload's hardening (non-root, read-only root, no
//     capabilities, seccomp, resources, probes, no token, no subPath for
//     ConfigMaps) and that every Service, HPA and PDB points at something;
//   - loads each service's ConfigMap file with the Deployment's environment
//     (Secrets and $(VAR) resolved) into the service's own typed Config, by
//     running testdata/k8s_config_test.go inside the service's config package;
//   - follows every address in those configs (listen addresses, clients, the
//     database DSN) through Services to container ports and to the config of
//     the workload behind them, and the DSN's credentials to the database's
//     init environment;
//   - checks that the network policies allow exactly the connections the
//     configs make, and that the kind cluster config maps the NodePorts.
//
// Usage (from make k8s-check):
//
//	manifestcheck -repo DIR [-kind-config k8s/kind.yaml] NAME=RENDERED.yaml...
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"example.com/bookstore/hack/k8s/internal/manifest"
)

func main() {
	repo := flag.String("repo", ".", "repository root")
	kindConfig := flag.String("kind-config", "", "kind cluster config to check against the overlay named kind")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: manifestcheck -repo DIR [-kind-config FILE] NAME=RENDERED.yaml...")
		os.Exit(2)
	}
	r := &report{}
	for _, arg := range flag.Args() {
		name, file, ok := strings.Cut(arg, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "manifestcheck: argument %q is not NAME=FILE\n", arg)
			os.Exit(2)
		}
		kc := ""
		if filepath.Base(name) == "kind" {
			kc = *kindConfig
		}
		checkOverlay(r, *repo, name, file, kc)
	}
	if r.failed > 0 {
		os.Exit(1)
	}
}

// report prints one line per check and counts the outcomes.
type report struct{ passed, failed int }

func (r *report) check(what string, errs []error) {
	if len(errs) == 0 {
		r.passed++
		fmt.Printf("  ok    %s\n", what)
		return
	}
	r.failed++
	fmt.Printf("  FAIL  %s\n", what)
	for _, e := range errs {
		for i, line := range strings.Split(strings.TrimRight(e.Error(), "\n"), "\n") {
			if i == 0 {
				fmt.Printf("        - %s\n", line)
			} else {
				fmt.Printf("          %s\n", line)
			}
		}
	}
}

// overlay is one rendered overlay, indexed.
type overlay struct {
	name       string
	objs       []manifest.Object
	workloads  []*workload
	services   map[string]*service // by name
	secrets    map[string]map[string]string
	configMaps map[string]map[string]string
	policies   []policy
}

type workload struct {
	obj manifest.Object
	manifest.Workload
	app     string // app.kubernetes.io/name
	service bool   // one of ours: <repo>/<app>/internal/config exists
	cfg     *serviceConfig
}

func (w *workload) labels() map[string]string { return w.Spec.Template.Metadata.Labels }

type service struct {
	obj manifest.Object
	manifest.Service
}

type policy struct {
	obj manifest.Object
	manifest.NetworkPolicy
}

// load reads a rendering. An object that does not decode into its kind's
// view (kubeconform reports why) is left out and its error returned, so the
// other checks still run.
func load(name, file string) (*overlay, []error, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	objs, err := manifest.Split(data)
	if err != nil {
		return nil, nil, err
	}
	o := &overlay{name: name, objs: objs, services: map[string]*service{},
		secrets: map[string]map[string]string{}, configMaps: map[string]map[string]string{}}
	var errs []error
	for _, obj := range objs {
		if err := o.add(obj); err != nil {
			errs = append(errs, err)
		}
	}
	return o, errs, nil
}

func (o *overlay) add(obj manifest.Object) error {
	switch obj.Kind {
	case "Deployment", "StatefulSet":
		w := &workload{obj: obj}
		if err := obj.Decode(&w.Workload); err != nil {
			return err
		}
		w.app = w.labels()["app.kubernetes.io/name"]
		o.workloads = append(o.workloads, w)
	case "Service":
		s := &service{obj: obj}
		if err := obj.Decode(&s.Service); err != nil {
			return err
		}
		o.services[obj.Metadata.Name] = s
	case "Secret":
		var s manifest.Secret
		if err := obj.Decode(&s); err != nil {
			return err
		}
		v, err := s.Values()
		if err != nil {
			return fmt.Errorf("%s: %w", obj.ID(), err)
		}
		o.secrets[obj.Metadata.Name] = v
	case "ConfigMap":
		var c manifest.ConfigMap
		if err := obj.Decode(&c); err != nil {
			return err
		}
		o.configMaps[obj.Metadata.Name] = c.Data
	case "NetworkPolicy":
		p := policy{obj: obj}
		if err := obj.Decode(&p.NetworkPolicy); err != nil {
			return err
		}
		o.policies = append(o.policies, p)
	}
	return nil
}

func checkOverlay(r *report, repo, name, file, kindConfig string) {
	o, decodeErrs, err := load(name, file)
	if err != nil {
		r.check(name+": the rendered manifests parse", []error{err})
		return
	}
	fmt.Printf("%s: %d resources, %d workloads\n", name, len(o.objs), len(o.workloads))
	if len(decodeErrs) > 0 {
		r.check("every resource decodes (the others are checked without these)", decodeErrs)
	}
	for _, w := range o.workloads {
		_, err := os.Stat(filepath.Join(repo, w.app, "internal", "config"))
		w.service = w.app != "" && err == nil
	}

	for _, w := range o.workloads {
		r.check(fmt.Sprintf("%s is hardened (non-root, read-only, no capabilities, seccomp, limits, probes, no token)", w.obj.ID()),
			hardening(o, w))
	}
	r.check("every Service selects pods and targets their ports", checkServices(o))
	r.check("every HPA and PDB points at a workload; HPA targets leave replicas to it", checkScaling(o))

	cases, errs := configCases(o, repo)
	r.check("the services' ConfigMaps are their conf/config.toml, and env Secrets exist", errs)
	if len(errs) > 0 {
		return
	}
	loadErrs := loadConfigs(o, repo, cases)
	for _, w := range o.workloads {
		if w.service {
			var es []error
			if e, ok := loadErrs[w.app]; ok {
				es = []error{e}
			}
			r.check(fmt.Sprintf("%s: ConfigMap + env load into %s's typed Config (no unknown keys, no stray env)", w.obj.ID(), w.app), es)
		}
	}
	if e, ok := loadErrs["*"]; ok {
		r.check("the config checks ran", []error{e})
	}
	if len(loadErrs) > 0 {
		return
	}

	var edges []edge
	for _, w := range o.workloads {
		if !w.service {
			continue
		}
		es, wErrs := wiring(o, w)
		edges = append(edges, es...)
		desc := make([]string, 0, len(es))
		for _, e := range es {
			desc = append(desc, e.what)
		}
		what := fmt.Sprintf("%s: listens where its Service and probes expect", w.obj.ID())
		if len(desc) > 0 {
			what += "; reaches " + strings.Join(desc, ", ")
		}
		r.check(what, wErrs)
	}
	if len(o.policies) > 0 {
		allowed, denied, errs := checkPolicies(o, edges)
		r.check(fmt.Sprintf("network policies allow the %d connections the configs make and block the %d others", allowed, denied), errs)
	}
	if kindConfig != "" {
		r.check(fmt.Sprintf("%s maps every NodePort of %s to the host", kindConfig, name), checkKind(o, kindConfig))
	}
	fmt.Printf("%s: %d passed, %d failed\n", name, r.passed, r.failed)
}

// hardening checks the rules every workload of the store follows.
func hardening(o *overlay, w *workload) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	pod := w.Spec.Template.Spec
	if w.app == "" {
		fail("the pod template has no app.kubernetes.io/name label")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		fail("automountServiceAccountToken must be false: no workload talks to the Kubernetes API")
	}
	if pod.ServiceAccountName == "" || pod.ServiceAccountName == "default" {
		fail("serviceAccountName must name the workload's own ServiceAccount")
	} else if !o.has("ServiceAccount", pod.ServiceAccountName) {
		fail("ServiceAccount %s does not exist", pod.ServiceAccountName)
	}
	sc := pod.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		fail("securityContext.runAsNonRoot must be true")
	}
	if sc == nil || sc.SeccompProfile == nil || sc.SeccompProfile.Type != "RuntimeDefault" {
		fail("securityContext.seccompProfile.type must be RuntimeDefault")
	}
	configVolumes := map[string]bool{}
	for _, v := range pod.Volumes {
		if v.ConfigMap != nil {
			configVolumes[v.Name] = true
		}
	}
	for i, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
		initContainer := i < len(pod.InitContainers)
		cfail := func(format string, args ...any) { fail("container %s: "+format, append([]any{c.Name}, args...)...) }
		csc := c.SecurityContext
		if csc == nil || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
			cfail("allowPrivilegeEscalation must be false")
		}
		if csc == nil || csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
			cfail("readOnlyRootFilesystem must be true (mount an emptyDir where it writes)")
		}
		if csc != nil && csc.Privileged != nil && *csc.Privileged {
			cfail("must not be privileged")
		}
		if csc == nil || csc.Capabilities == nil || !slices.Contains(csc.Capabilities.Drop, "ALL") {
			cfail("capabilities.drop must contain ALL")
		}
		for _, res := range []string{"cpu", "memory"} {
			if c.Resources.Requests[res] == nil {
				cfail("resources.requests.%s is missing", res)
			}
			if c.Resources.Limits[res] == nil {
				cfail("resources.limits.%s is missing", res)
			}
		}
		if c.Image == "" {
			cfail("no image")
		}
		for _, m := range c.VolumeMounts {
			if configVolumes[m.Name] && m.SubPath != "" {
				cfail("ConfigMap volume %s is mounted with subPath %q: such a mount never sees ConfigMap updates; mount the directory", m.Name, m.SubPath)
			}
		}
		if initContainer {
			continue
		}
		if c.ReadinessProbe == nil {
			cfail("no readinessProbe")
		}
		if c.LivenessProbe == nil {
			cfail("no livenessProbe")
		}
		for _, p := range []*manifest.Probe{c.StartupProbe, c.LivenessProbe, c.ReadinessProbe} {
			if p == nil {
				continue
			}
			if port, ok := p.Port(); ok {
				if _, ok := c.PortNumber(port); !ok {
					cfail("a probe targets port %s, which the container does not declare", port)
				}
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
				continue
			}
			ref := e.ValueFrom.SecretKeyRef
			if vals, ok := o.secrets[ref.Name]; !ok {
				if ref.Optional == nil || !*ref.Optional {
					cfail("env %s: Secret %s is not part of %s", e.Name, ref.Name, o.name)
				}
			} else if _, ok := vals[ref.Key]; !ok {
				cfail("env %s: Secret %s has no key %q", e.Name, ref.Name, ref.Key)
			}
		}
	}
	return errs
}

func (o *overlay) has(kind, name string) bool {
	for _, obj := range o.objs {
		if obj.Kind == kind && obj.Metadata.Name == name {
			return true
		}
	}
	return false
}

// selected lists the workloads whose pods a Service selects.
func (o *overlay) selected(s *service) []*workload {
	var ws []*workload
	if len(s.Spec.Selector) == 0 {
		return nil
	}
	for _, w := range o.workloads {
		if manifest.SelectorMatches(s.Spec.Selector, w.labels()) {
			ws = append(ws, w)
		}
	}
	return ws
}

func checkServices(o *overlay) []error {
	var errs []error
	for _, name := range sortedKeys(o.services) {
		s := o.services[name]
		ws := o.selected(s)
		if len(ws) == 0 {
			errs = append(errs, fmt.Errorf("%s: its selector %v matches no workload's pods", s.obj.ID(), s.Spec.Selector))
			continue
		}
		for _, p := range s.Spec.Ports {
			target := manifest.IntOrString{Int: p.Port}
			if p.TargetPort != nil {
				target = *p.TargetPort
			}
			for _, w := range ws {
				if _, ok := containerPort(w, target); !ok {
					errs = append(errs, fmt.Errorf("%s: port %d targets %s, which no container of %s declares", s.obj.ID(), p.Port, target, w.obj.ID()))
				}
			}
		}
	}
	return errs
}

func containerPort(w *workload, p manifest.IntOrString) (int, bool) {
	for _, c := range w.Spec.Template.Spec.Containers {
		if n, ok := c.PortNumber(p); ok {
			if p.Str != "" {
				return n, true
			}
			for _, cp := range c.Ports {
				if cp.ContainerPort == n {
					return n, true
				}
			}
		}
	}
	return 0, false
}

func checkScaling(o *overlay) []error {
	var errs []error
	for _, obj := range o.objs {
		switch obj.Kind {
		case "HorizontalPodAutoscaler":
			var h struct {
				Spec struct {
					ScaleTargetRef struct {
						Kind string `json:"kind"`
						Name string `json:"name"`
					} `json:"scaleTargetRef"`
				} `json:"spec"`
			}
			if err := obj.Decode(&h); err != nil {
				errs = append(errs, err)
				continue
			}
			ref := h.Spec.ScaleTargetRef
			var target *workload
			for _, w := range o.workloads {
				if w.obj.Kind == ref.Kind && w.obj.Metadata.Name == ref.Name {
					target = w
				}
			}
			switch {
			case target == nil:
				errs = append(errs, fmt.Errorf("%s scales %s %s, which does not exist", obj.ID(), ref.Kind, ref.Name))
			case target.Spec.Replicas != nil:
				errs = append(errs, fmt.Errorf("%s sets spec.replicas although %s scales it: every apply would reset the count", target.obj.ID(), obj.ID()))
			}
		case "PodDisruptionBudget":
			var p struct {
				Spec struct {
					Selector manifest.LabelSelector `json:"selector"`
				} `json:"spec"`
			}
			if err := obj.Decode(&p); err != nil {
				errs = append(errs, err)
				continue
			}
			n := 0
			for _, w := range o.workloads {
				if p.Spec.Selector.Matches(w.labels()) {
					n++
				}
			}
			if n == 0 {
				errs = append(errs, fmt.Errorf("%s selects no workload's pods", obj.ID()))
			}
		}
	}
	return errs
}

// configCase mirrors configtest's k8sCase.
type configCase struct {
	Workload   string   `json:"workload"`
	ConfigPath string   `json:"configPath"`
	Env        []envKV  `json:"env"`
	Overrides  []string `json:"overrides"`
	Out        string   `json:"out"`
	content    string   // the mounted file
}

type envKV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Variables the Go runtime reads; allowed in any container without being
// config keys.
var runtimeEnv = []string{"CONFIG_PATH", "GOMAXPROCS", "GOMEMLIMIT", "GOGC", "GODEBUG", "GOTRACEBACK"}

// configCases finds each service's mounted config file and resolved
// environment.
func configCases(o *overlay, repo string) (map[string]configCase, []error) {
	cases := map[string]configCase{}
	var errs []error
	for _, w := range o.workloads {
		if !w.service {
			continue
		}
		fail := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s: "+format, append([]any{w.obj.ID()}, args...)...))
		}
		if len(w.Spec.Template.Spec.Containers) != 1 {
			fail("expected one container, found %d", len(w.Spec.Template.Spec.Containers))
			continue
		}
		c := w.Spec.Template.Spec.Containers[0]
		env, overrides, err := resolveEnv(o, c)
		if err != nil {
			fail("%v", err)
			continue
		}
		configPath := ""
		for _, e := range env {
			if e.Name == "CONFIG_PATH" {
				configPath = e.Value
			}
		}
		if configPath == "" {
			fail("no CONFIG_PATH in the environment: the binary would read conf/config.toml from its working directory")
			continue
		}
		content, err := mountedFile(o, w, c, configPath)
		if err != nil {
			fail("CONFIG_PATH %s: %v", configPath, err)
			continue
		}
		local := filepath.Join(w.app, "conf", "config.toml")
		want, err := os.ReadFile(filepath.Join(repo, local))
		if err != nil {
			fail("%v", err)
			continue
		}
		if content != string(want) {
			fail("the ConfigMap at %s differs from %s; generate it from that file (configMapGenerator)", configPath, local)
			continue
		}
		cases[w.app] = configCase{Workload: w.obj.ID(), ConfigPath: configPath, Env: env, Overrides: overrides, content: content}
	}
	return cases, errs
}

// resolveEnv evaluates a container's env as the kubelet would, and returns
// the names meant as config overrides: all but the runtime's variables and
// helpers that only feed other variables through $(NAME).
func resolveEnv(o *overlay, c manifest.Container) ([]envKV, []string, error) {
	defined := map[string]string{}
	var env []envKV
	helpers := map[string]bool{}
	for _, e := range c.Env {
		for _, ref := range manifest.References(e.Value) {
			helpers[ref] = true
		}
	}
	for _, e := range c.Env {
		var v string
		switch {
		case e.ValueFrom == nil:
			v = manifest.ExpandEnv(e.Value, defined)
			for _, ref := range manifest.References(v) {
				return nil, nil, fmt.Errorf("env %s refers to $(%s), which is not defined above it", e.Name, ref)
			}
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			val, ok := o.secrets[ref.Name][ref.Key]
			if !ok {
				return nil, nil, fmt.Errorf("env %s: Secret %s has no key %q in %s", e.Name, ref.Name, ref.Key, o.name)
			}
			v = val
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			val, ok := o.configMaps[ref.Name][ref.Key]
			if !ok {
				return nil, nil, fmt.Errorf("env %s: ConfigMap %s has no key %q in %s", e.Name, ref.Name, ref.Key, o.name)
			}
			v = val
		default:
			return nil, nil, fmt.Errorf("env %s: only value, secretKeyRef and configMapKeyRef can be checked", e.Name)
		}
		defined[e.Name] = v
		env = append(env, envKV{e.Name, v})
	}
	var overrides []string
	for _, e := range env {
		if !helpers[e.Name] && !slices.Contains(runtimeEnv, e.Name) {
			overrides = append(overrides, e.Name)
		}
	}
	return env, overrides, nil
}

// mountedFile returns the content a container sees at path, which must come
// from a ConfigMap volume mounted as a directory.
func mountedFile(o *overlay, w *workload, c manifest.Container, path string) (string, error) {
	dir, file := filepath.Split(path)
	dir = filepath.Clean(dir)
	for _, m := range c.VolumeMounts {
		if filepath.Clean(m.MountPath) != dir {
			continue
		}
		if m.SubPath != "" {
			return "", fmt.Errorf("mounted with subPath: the service would never see ConfigMap edits")
		}
		for _, v := range w.Spec.Template.Spec.Volumes {
			if v.Name != m.Name {
				continue
			}
			if v.ConfigMap == nil {
				return "", fmt.Errorf("volume %s is not a ConfigMap", v.Name)
			}
			data, ok := o.configMaps[v.ConfigMap.Name]
			if !ok {
				return "", fmt.Errorf("ConfigMap %s is not part of %s", v.ConfigMap.Name, o.name)
			}
			content, ok := data[file]
			if !ok {
				return "", fmt.Errorf("ConfigMap %s has no key %q", v.ConfigMap.Name, file)
			}
			return content, nil
		}
		return "", fmt.Errorf("volume %s is not declared", m.Name)
	}
	return "", fmt.Errorf("no volume is mounted at %s", dir)
}

// serviceConfig is the part of a decoded service Config (JSON of the Go
// struct) that the wiring checks follow.
type serviceConfig struct {
	Server struct {
		Addr            string
		AdminAddr       string
		DrainDelay      time.Duration
		ShutdownTimeout time.Duration
	}
	DB *struct {
		Driver         string
		DSN            string
		ConnectTimeout time.Duration
	}
	Clients map[string]struct {
		Addr            string
		ResolveInterval time.Duration
	}
}

// loadConfigs runs configtest in every service's config package (one go
// test run) and decodes what each wrote. It returns the failures by service.
func loadConfigs(o *overlay, repo string, cases map[string]configCase) map[string]error {
	failures := map[string]error{}
	tmp, err := os.MkdirTemp("", "k8scheck-")
	if err != nil {
		return map[string]error{"*": err}
	}
	defer os.RemoveAll(tmp)

	testSrc, err := filepath.Abs(filepath.Join(repo, "hack", "k8s", "cmd", "manifestcheck", "testdata", "k8s_config_test.go"))
	if err != nil {
		return map[string]error{"*": err}
	}
	replace := map[string]string{}
	var pkgs []string
	for _, app := range sortedKeys(cases) {
		c := cases[app]
		// The file as the pod sees it, at a path of our own.
		dir := filepath.Join(tmp, app)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return map[string]error{app: err}
		}
		c.ConfigPath = filepath.Join(dir, filepath.Base(c.ConfigPath))
		if err := os.WriteFile(c.ConfigPath, []byte(c.content), 0o600); err != nil {
			return map[string]error{app: err}
		}
		c.Out = filepath.Join(tmp, app+".json")
		cases[app] = c
		pkgDir, err := filepath.Abs(filepath.Join(repo, app, "internal", "config"))
		if err != nil {
			return map[string]error{app: err}
		}
		replace[filepath.Join(pkgDir, "zz_k8scheck_test.go")] = testSrc
		pkgs = append(pkgs, "./"+app+"/internal/config")
	}
	casesFile := filepath.Join(tmp, "cases.json")
	overlayFile := filepath.Join(tmp, "overlay.json")
	if err := writeJSON(casesFile, cases); err != nil {
		return map[string]error{"*": err}
	}
	if err := writeJSON(overlayFile, map[string]any{"Replace": replace}); err != nil {
		return map[string]error{"*": err}
	}

	args := append([]string{"test", "-json", "-overlay", overlayFile, "-count=1", "-run", "^TestK8sManifest$"}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = repo
	cmd.Env = append(goEnv(), "K8SCHECK_CASES="+casesFile)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()
	results, buildOutput := testResults(out)

	for _, app := range sortedKeys(cases) {
		res := results[app]
		if res == nil || !res.passed {
			// A compile error in a dependency (common/...) is reported
			// under that package, not the service's.
			var detail string
			if res != nil {
				detail = strings.TrimSpace(res.output.String())
			}
			if detail == "" {
				detail = strings.TrimSpace(buildOutput + stderr.String())
			}
			failures[app] = fmt.Errorf("go test ./%s/internal/config did not pass:\n%s", app, detail)
			continue
		}
		raw, err := os.ReadFile(cases[app].Out)
		if err != nil {
			failures[app] = err
			continue
		}
		var cfg serviceConfig
		if err := json.Unmarshal(raw, &cfg); err != nil {
			failures[app] = err
			continue
		}
		for _, w := range o.workloads {
			if w.app == app {
				w.cfg = &cfg
			}
		}
	}
	if runErr != nil && len(failures) == 0 {
		failures["*"] = fmt.Errorf("go test: %v\n%s", runErr, stderr.String())
	}
	return failures
}

type testResult struct {
	passed bool
	output strings.Builder
}

// testResults reads go test -json output into a result per service (the
// third element of the package path, example.com/bookstore/<service>/...),
// keeping the output lines that say what failed, and returns the compiler's
// output for all packages too.
func testResults(out []byte) (map[string]*testResult, string) {
	results := map[string]*testResult{}
	var build strings.Builder
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var ev struct {
			Action, Package, ImportPath, Test, Output string
		}
		if err := dec.Decode(&ev); err != nil {
			break
		}
		pkg := ev.Package
		if pkg == "" {
			pkg, _, _ = strings.Cut(ev.ImportPath, " ")
		}
		parts := strings.Split(pkg, "/")
		if len(parts) < 3 {
			continue
		}
		res := results[parts[2]]
		if res == nil {
			res = &testResult{}
			results[parts[2]] = res
		}
		if ev.Test == "" && ev.Action == "pass" {
			res.passed = true
		}
		if ev.Action == "build-output" {
			build.WriteString(ev.Output)
		}
		line := strings.TrimSpace(ev.Output)
		if line == "" || line == "FAIL" || line == "PASS" || strings.HasPrefix(line, "=== RUN") ||
			strings.HasPrefix(line, "ok ") || strings.HasPrefix(line, "FAIL\t") {
			continue
		}
		res.output.WriteString(line + "\n")
	}
	return results, build.String()
}

// goEnv is the environment for the go test run: what the go command needs
// and nothing else, so that variables of the caller's shell (LOG_LEVEL,
// DB_DSN...) cannot override keys as the Deployment's environment would.
func goEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GO") || strings.HasPrefix(name, "CGO_") ||
			slices.Contains([]string{"PATH", "HOME", "TMPDIR", "XDG_CACHE_HOME", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}, name) {
			env = append(env, kv)
		}
	}
	return env
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// edge is a connection a service's config makes to a workload's port.
type edge struct {
	from, to *workload
	port     int
	what     string
}

// wiring follows w's addresses: its listeners to its ports, Service and
// probes; its clients and DSN through Services to the workloads behind them.
func wiring(o *overlay, w *workload) ([]edge, []error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	c := w.Spec.Template.Spec.Containers[0]
	cfg := w.cfg

	listenPort := func(key, addr string) int {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			fail("%s %q: %v", key, addr, err)
			return 0
		}
		if host != "" && host != "0.0.0.0" && host != "::" {
			fail("%s is %s: it listens on %s only, out of reach of other pods and of the kubelet; override it with 0.0.0.0:%s",
				key, addr, host, port)
		}
		n, _ := strconv.Atoi(port)
		if !declares(c, n) {
			fail("%s port %d is not a containerPort of %s", key, n, c.Name)
		}
		return n
	}
	rpcPort := listenPort("server.addr", cfg.Server.Addr)
	adminPort := listenPort("server.admin_addr", cfg.Server.AdminAddr)

	for name, p := range map[string]*manifest.Probe{"startupProbe": c.StartupProbe, "livenessProbe": c.LivenessProbe, "readinessProbe": c.ReadinessProbe} {
		if p == nil {
			continue
		}
		if port, ok := p.Port(); ok {
			if n, _ := c.PortNumber(port); n != adminPort {
				fail("%s targets port %d, but /healthz and /readyz are served on server.admin_addr (port %d)", name, n, adminPort)
			}
		}
	}
	routed := false
	for _, s := range o.services {
		if !slices.Contains(o.selected(s), w) {
			continue
		}
		for _, p := range s.Spec.Ports {
			if n, ok := targetOf(s, p.Port, w); ok && n == rpcPort {
				routed = true
			}
		}
	}
	if !routed {
		fail("no Service routes to server.addr's port %d", rpcPort)
	}

	// Draining: the kubelet waits preStop, then SIGTERM starts drain_delay
	// and then up to shutdown_timeout for calls in flight.
	grace := 30
	if g := w.Spec.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	preStop := preStopOf(w)
	if preStop == 0 {
		fail("no preStop sleep: endpoints would still send calls after SIGTERM")
	}
	shutdown := cfg.Server.ShutdownTimeout
	if shutdown <= 0 {
		shutdown = 10 * time.Second
	}
	need := preStop + cfg.Server.DrainDelay + shutdown
	if time.Duration(grace)*time.Second <= need {
		fail("terminationGracePeriodSeconds %d is not above preStop %v + server.drain_delay %v + server.shutdown_timeout %v: the pod would be killed mid-drain",
			grace, preStop, cfg.Server.DrainDelay, shutdown)
	}

	var edges []edge
	for _, name := range sortedKeys(cfg.Clients) {
		key := "clients." + strings.ToLower(name) + ".addr"
		for _, hp := range strings.Split(cfg.Clients[name].Addr, ",") {
			hp = strings.TrimSpace(hp)
			to, port, err := resolve(o, hp)
			if err != nil {
				fail("%s %q: %v", key, hp, err)
				continue
			}
			if to.cfg == nil {
				fail("%s %q leads to %s, which is not one of the services", key, hp, to.obj.ID())
				continue
			}
			if _, p, _ := net.SplitHostPort(to.cfg.Server.Addr); p != strconv.Itoa(port) {
				fail("%s %q reaches port %d of %s, but that service listens on %s", key, hp, port, to.obj.ID(), to.cfg.Server.Addr)
				continue
			}
			// The client balances over the addresses the name resolves
			// to (common/rpcclient): a ClusterIP is one address, and
			// kube-proxy would pin each pooled connection to one pod.
			host, _, _ := net.SplitHostPort(hp)
			if svc := o.services[serviceName(host)]; svc.Spec.ClusterIP != "None" {
				fail("%s %q names Service %s, which is not headless (clusterIP: None): the client would see one address, not the pods", key, hp, svc.obj.Metadata.Name)
			}
			// After the endpoints drop a terminating pod, its callers
			// still send to it until their DNS answer expires and they
			// resolve again: it must keep its listener open that long
			// (preStop sleep, then server.drain_delay).
			every := cfg.Clients[name].ResolveInterval
			if every <= 0 {
				every = 5 * time.Second // rpcclient.DefaultResolveInterval
			}
			serves := preStopOf(to) + to.cfg.Server.DrainDelay
			if lag := clusterDNSTTL + every; serves <= lag {
				fail("%s: %s stops listening %v after it leaves its endpoints (preStop + server.drain_delay), "+
					"not after its callers stop sending to it: DNS TTL %v + resolve_interval %v", key, to.obj.ID(), serves, clusterDNSTTL, every)
			}
			edges = append(edges, edge{w, to, port, hp})
		}
	}

	if cfg.DB != nil && cfg.DB.Driver == "mysql" {
		e, dbErrs := databaseEdge(o, w)
		errs = append(errs, dbErrs...)
		if e != nil {
			edges = append(edges, *e)
		}
		wait := cfg.DB.ConnectTimeout
		if wait <= 0 {
			wait = 60 * time.Second
		}
		switch {
		case c.StartupProbe == nil:
			fail("no startupProbe: the admin listener starts only after the database opens (up to db.connect_timeout %v)", wait)
		case time.Duration(c.StartupProbe.Budget())*time.Second <= wait:
			fail("the startupProbe gives up after %ds, before db.connect_timeout (%v) ends: a slow database would get the pod restarted",
				c.StartupProbe.Budget(), wait)
		}
	}
	return edges, errs
}

// clusterDNSTTL is how long a DNS answer about a Service may be cached:
// CoreDNS's kubernetes plugin answers with a TTL of 5s by default.
const clusterDNSTTL = 5 * time.Second

// preStopOf is the preStop sleep of w's container (0 without one).
func preStopOf(w *workload) time.Duration {
	c := w.Spec.Template.Spec.Containers[0]
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		return 0
	}
	return time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
}

func declares(c manifest.Container, port int) bool {
	for _, p := range c.Ports {
		if p.ContainerPort == port {
			return true
		}
	}
	return false
}

// targetOf resolves a Service port to the container port of w it reaches.
func targetOf(s *service, port int, w *workload) (int, bool) {
	for _, p := range s.Spec.Ports {
		if p.Port != port {
			continue
		}
		target := manifest.IntOrString{Int: p.Port}
		if p.TargetPort != nil {
			target = *p.TargetPort
		}
		return containerPort(w, target)
	}
	return 0, false
}

// resolve follows host:port through a Service of the overlay to the one
// workload behind it.
func resolve(o *overlay, hostport string) (*workload, int, error) {
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, 0, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, 0, fmt.Errorf("port %q is not a number", portStr)
	}
	name := serviceName(host)
	s, ok := o.services[name]
	if !ok {
		return nil, 0, fmt.Errorf("there is no Service %q (Services: %s)", name, strings.Join(sortedKeys(o.services), ", "))
	}
	ws := o.selected(s)
	if len(ws) != 1 {
		return nil, 0, fmt.Errorf("Service %s selects %d workloads, want 1", name, len(ws))
	}
	target, ok := targetOf(s, port, ws[0])
	if !ok {
		return nil, 0, fmt.Errorf("Service %s has no port %d leading to a container port of %s", name, port, ws[0].obj.ID())
	}
	return ws[0], target, nil
}

// serviceName is the Service a cluster DNS name refers to: <service>,
// <service>.<namespace>, ... .svc or .svc.cluster.local.
func serviceName(host string) string {
	for _, suffix := range []string{".svc.cluster.local", ".svc"} {
		host = strings.TrimSuffix(host, suffix)
	}
	name, _, _ := strings.Cut(host, ".")
	return name
}

// databaseEdge checks a service's MySQL DSN against the database workload:
// its address, and that the init environment creates this database with
// these credentials (k8s/base/mysql/init-databases.sh).
func databaseEdge(o *overlay, w *workload) (*edge, []error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	dsn, err := mysql.ParseDSN(w.cfg.DB.DSN)
	if err != nil {
		return nil, []error{fmt.Errorf("db.dsn: %v", err)}
	}
	if dsn.Net != "tcp" {
		return nil, []error{fmt.Errorf("db.dsn uses %q; in a cluster it must be tcp(<service>:3306)", dsn.Net)}
	}
	db, port, err := resolve(o, dsn.Addr)
	if err != nil {
		return nil, []error{fmt.Errorf("db.dsn address %q: %v", dsn.Addr, err)}
	}
	e := &edge{w, db, port, "database " + dsn.Addr + "/" + dsn.DBName}
	env, _, err := resolveEnv(o, db.Spec.Template.Spec.Containers[0])
	if err != nil {
		return e, []error{fmt.Errorf("%s: %v", db.obj.ID(), err)}
	}
	vars := map[string]string{}
	for _, e := range env {
		vars[e.Name] = e.Value
	}
	upper := strings.ToUpper(dsn.DBName)
	switch {
	case !slices.Contains(strings.Fields(vars["BOOKSTORE_DATABASES"]), dsn.DBName):
		fail("db.dsn names database %q, which BOOKSTORE_DATABASES of %s (%q) does not create", dsn.DBName, db.obj.ID(), vars["BOOKSTORE_DATABASES"])
	case vars[upper+"_DB_USER"] != dsn.User:
		fail("db.dsn logs in as %q, but %s creates user %q for database %s (%s_DB_USER)", dsn.User, db.obj.ID(), vars[upper+"_DB_USER"], dsn.DBName, upper)
	case vars[upper+"_DB_PASSWORD"] != dsn.Passwd:
		fail("db.dsn's password differs from the one %s sets for user %s (%s_DB_PASSWORD): use the same Secret", db.obj.ID(), dsn.User, upper)
	}
	return e, errs
}

// checkPolicies evaluates the overlay's NetworkPolicies (ingress, one
// namespace) for every workload pair: the edges must be allowed, and every
// other connection to a port that a ClusterIP Service of the store's own
// services or of their database exposes must be blocked. Other workloads
// (optional components) only need their own connections to work.
func checkPolicies(o *overlay, edges []edge) (int, int, []error) {
	var errs []error
	needed := map[[3]string]bool{}
	protected := map[*workload]bool{}
	for _, w := range o.workloads {
		protected[w] = w.service
	}
	for _, e := range edges {
		protected[e.to] = true
		if !allows(o, e.from, e.to, e.port) {
			errs = append(errs, fmt.Errorf("%s -> %s port %d (%s) is blocked, but %s's config needs it",
				e.from.obj.ID(), e.to.obj.ID(), e.port, e.what, e.from.app))
		}
		needed[[3]string{e.from.app, e.to.app, strconv.Itoa(e.port)}] = true
	}
	denied := 0
	for _, s := range o.services {
		if s.Spec.Type == "NodePort" || s.Spec.Type == "LoadBalancer" {
			continue // the store's front door: open by design
		}
		for _, to := range o.selected(s) {
			if !protected[to] {
				continue
			}
			for _, p := range s.Spec.Ports {
				port, ok := targetOf(s, p.Port, to)
				if !ok {
					continue
				}
				for _, from := range o.workloads {
					if from == to || needed[[3]string{from.app, to.app, strconv.Itoa(port)}] {
						continue
					}
					if allows(o, from, to, port) {
						errs = append(errs, fmt.Errorf("%s -> %s port %d is allowed, but no config needs it", from.obj.ID(), to.obj.ID(), port))
					} else {
						denied++
					}
				}
			}
		}
	}
	return len(edges), denied, errs
}

func allows(o *overlay, from, to *workload, port int) bool {
	isolated := false
	for _, p := range o.policies {
		if !p.Spec.PodSelector.Matches(to.labels()) {
			continue
		}
		if len(p.Spec.PolicyTypes) > 0 && !slices.Contains(p.Spec.PolicyTypes, "Ingress") {
			continue
		}
		isolated = true
		for _, rule := range p.Spec.Ingress {
			if peerMatches(rule.From, from) && portMatches(rule.Ports, to, port) {
				return true
			}
		}
	}
	return !isolated
}

func peerMatches(peers []manifest.PolicyPeer, from *workload) bool {
	if len(peers) == 0 {
		return true
	}
	for _, p := range peers {
		if p.IPBlock != nil {
			continue // pod addresses are unknown here; such a rule never counts as allowing
		}
		if p.NamespaceSelector != nil && (len(p.NamespaceSelector.MatchLabels) > 0 || len(p.NamespaceSelector.MatchExpressions) > 0) {
			continue
		}
		if p.PodSelector == nil || p.PodSelector.Matches(from.labels()) {
			return true
		}
	}
	return false
}

func portMatches(ports []manifest.PolicyPort, to *workload, port int) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p.Protocol != "" && p.Protocol != "TCP" {
			continue
		}
		if p.Port == nil {
			return true
		}
		if n, ok := containerPort(to, *p.Port); ok && n == port {
			return true
		}
	}
	return false
}

// checkKind compares the kind cluster config's port mappings with the
// overlay's NodePorts.
func checkKind(o *overlay, file string) []error {
	data, err := os.ReadFile(file)
	if err != nil {
		return []error{err}
	}
	objs, err := manifest.Split(data)
	if err != nil || len(objs) != 1 || objs[0].Kind != "Cluster" {
		return []error{fmt.Errorf("%s: want one kind Cluster document (%v)", file, err)}
	}
	var cluster struct {
		Nodes []struct {
			ExtraPortMappings []struct {
				ContainerPort int `json:"containerPort"`
				HostPort      int `json:"hostPort"`
			} `json:"extraPortMappings"`
		} `json:"nodes"`
	}
	dec := json.NewDecoder(bytes.NewReader(objs[0].JSON))
	if err := dec.Decode(&cluster); err != nil {
		return []error{fmt.Errorf("%s: %v", file, err)}
	}
	mapped := map[int]bool{}
	for _, n := range cluster.Nodes {
		for _, m := range n.ExtraPortMappings {
			mapped[m.ContainerPort] = true
		}
	}
	nodePorts := map[int]bool{}
	var errs []error
	for _, name := range sortedKeys(o.services) {
		s := o.services[name]
		if s.Spec.Type != "NodePort" {
			continue
		}
		for _, p := range s.Spec.Ports {
			switch {
			case p.NodePort == 0:
				errs = append(errs, fmt.Errorf("%s port %d has no fixed nodePort, so %s cannot map it", s.obj.ID(), p.Port, file))
			case !mapped[p.NodePort]:
				errs = append(errs, fmt.Errorf("%s exposes nodePort %d, which %s does not map (extraPortMappings)", s.obj.ID(), p.NodePort, file))
			}
			nodePorts[p.NodePort] = true
		}
	}
	for port := range mapped {
		if !nodePorts[port] {
			errs = append(errs, fmt.Errorf("%s maps containerPort %d, which no NodePort Service of %s uses", file, port, o.name))
		}
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
