// Package manifest reads rendered Kubernetes manifests (kustomize output)
// into the few typed views the checks need. It declares only the fields
// they read: the full schema is kubeconform's business.
package manifest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Object is one resource of a multi-document YAML stream.
type Object struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	// JSON is the whole resource, for decoding into a kind's view.
	JSON []byte `json:"-"`
}

// Metadata is the part of ObjectMeta the checks use.
type Metadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// ID names an object in messages: "Deployment bookstore/account".
func (o Object) ID() string {
	if o.Metadata.Namespace == "" {
		return o.Kind + " " + o.Metadata.Name
	}
	return o.Kind + " " + o.Metadata.Namespace + "/" + o.Metadata.Name
}

// Split cuts a YAML stream at its "---" lines and decodes each non-empty
// document. Documents without a kind (such as a kind cluster config) are kept
// too; the caller decides what they are.
func Split(data []byte) ([]Object, error) {
	var objs []Object
	for i, doc := range splitDocs(data) {
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		if string(js) == "null" {
			continue
		}
		var o Object
		if err := json.Unmarshal(js, &o); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		o.JSON = js
		objs = append(objs, o)
	}
	return objs, nil
}

func splitDocs(data []byte) [][]byte {
	var docs [][]byte
	var cur []byte
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if t := bytes.TrimRight(line, " \t\r\n"); bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) {
			docs = append(docs, cur)
			cur = nil
			continue
		}
		cur = append(cur, line...)
	}
	return append(docs, cur)
}

func stripComments(doc []byte) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line...)
		}
	}
	return out
}

// Decode fills v (a pointer to a kind's view) from o.
func (o Object) Decode(v any) error {
	if err := json.Unmarshal(o.JSON, v); err != nil {
		return fmt.Errorf("%s: %w", o.ID(), err)
	}
	return nil
}

// IntOrString is a port given by number or by name.
type IntOrString struct {
	Int int
	Str string
}

// UnmarshalJSON accepts 8080 and "http".
func (p *IntOrString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &p.Str)
	}
	return json.Unmarshal(b, &p.Int)
}

func (p IntOrString) String() string {
	if p.Str != "" {
		return strconv.Quote(p.Str)
	}
	return strconv.Itoa(p.Int)
}

// Workload is a Deployment or a StatefulSet.
type Workload struct {
	Spec struct {
		Replicas *int `json:"replicas"`
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		Template struct {
			Metadata Metadata `json:"metadata"`
			Spec     PodSpec  `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

// PodSpec is the part of a pod template the checks read.
type PodSpec struct {
	ServiceAccountName            string `json:"serviceAccountName"`
	AutomountServiceAccountToken  *bool  `json:"automountServiceAccountToken"`
	TerminationGracePeriodSeconds *int   `json:"terminationGracePeriodSeconds"`
	SecurityContext               *struct {
		RunAsNonRoot   *bool `json:"runAsNonRoot"`
		SeccompProfile *struct {
			Type string `json:"type"`
		} `json:"seccompProfile"`
	} `json:"securityContext"`
	InitContainers []Container `json:"initContainers"`
	Containers     []Container `json:"containers"`
	Volumes        []Volume    `json:"volumes"`
}

// Container is one container of a pod template.
type Container struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	Ports []struct {
		Name          string `json:"name"`
		ContainerPort int    `json:"containerPort"`
	} `json:"ports"`
	Env       []EnvVar `json:"env"`
	Resources struct {
		Requests map[string]any `json:"requests"`
		Limits   map[string]any `json:"limits"`
	} `json:"resources"`
	StartupProbe   *Probe `json:"startupProbe"`
	LivenessProbe  *Probe `json:"livenessProbe"`
	ReadinessProbe *Probe `json:"readinessProbe"`
	Lifecycle      *struct {
		PreStop *struct {
			Sleep *struct {
				Seconds int `json:"seconds"`
			} `json:"sleep"`
		} `json:"preStop"`
	} `json:"lifecycle"`
	SecurityContext *struct {
		AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `json:"readOnlyRootFilesystem"`
		Privileged               *bool `json:"privileged"`
		Capabilities             *struct {
			Drop []string `json:"drop"`
		} `json:"capabilities"`
	} `json:"securityContext"`
	VolumeMounts []struct {
		Name      string `json:"name"`
		MountPath string `json:"mountPath"`
		SubPath   string `json:"subPath"`
	} `json:"volumeMounts"`
}

// EnvVar is one entry of a container's env.
type EnvVar struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	ValueFrom *struct {
		SecretKeyRef    *KeyRef `json:"secretKeyRef"`
		ConfigMapKeyRef *KeyRef `json:"configMapKeyRef"`
		FieldRef        *struct {
			FieldPath string `json:"fieldPath"`
		} `json:"fieldRef"`
		ResourceFieldRef *struct {
			Resource string `json:"resource"`
		} `json:"resourceFieldRef"`
	} `json:"valueFrom"`
}

// KeyRef points at one key of a Secret or ConfigMap.
type KeyRef struct {
	Name     string `json:"name"`
	Key      string `json:"key"`
	Optional *bool  `json:"optional"`
}

// Probe is a container probe; zero numbers take Kubernetes' defaults.
type Probe struct {
	HTTPGet *struct {
		Path string      `json:"path"`
		Port IntOrString `json:"port"`
	} `json:"httpGet"`
	TCPSocket *struct {
		Port IntOrString `json:"port"`
	} `json:"tcpSocket"`
	PeriodSeconds       int `json:"periodSeconds"`
	FailureThreshold    int `json:"failureThreshold"`
	InitialDelaySeconds int `json:"initialDelaySeconds"`
}

// Budget is how long the probe tolerates failure before it gives up:
// initial delay + period x failure threshold, with Kubernetes' defaults.
func (p *Probe) Budget() int {
	period, failures := p.PeriodSeconds, p.FailureThreshold
	if period == 0 {
		period = 10
	}
	if failures == 0 {
		failures = 3
	}
	return p.InitialDelaySeconds + period*failures
}

// Port is the port the probe targets, if it targets one.
func (p *Probe) Port() (IntOrString, bool) {
	switch {
	case p.HTTPGet != nil:
		return p.HTTPGet.Port, true
	case p.TCPSocket != nil:
		return p.TCPSocket.Port, true
	}
	return IntOrString{}, false
}

// Volume is a pod volume; only the sources the checks care about.
type Volume struct {
	Name      string `json:"name"`
	ConfigMap *struct {
		Name string `json:"name"`
	} `json:"configMap"`
	Secret *struct {
		SecretName string `json:"secretName"`
	} `json:"secret"`
}

// PortNumber resolves a port by number or by name among c's ports.
func (c Container) PortNumber(p IntOrString) (int, bool) {
	if p.Str == "" {
		return p.Int, p.Int > 0
	}
	for _, cp := range c.Ports {
		if cp.Name == p.Str {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

// Service is a v1 Service.
type Service struct {
	Spec struct {
		Type      string            `json:"type"`
		ClusterIP string            `json:"clusterIP"`
		Selector  map[string]string `json:"selector"`
		Ports     []struct {
			Name       string       `json:"name"`
			Port       int          `json:"port"`
			TargetPort *IntOrString `json:"targetPort"`
			NodePort   int          `json:"nodePort"`
		} `json:"ports"`
	} `json:"spec"`
}

// Secret is a v1 Secret; Values decodes it.
type Secret struct {
	Data       map[string]string `json:"data"`
	StringData map[string]string `json:"stringData"`
}

// Values returns the Secret's keys with their decoded values.
func (s Secret) Values() (map[string]string, error) {
	out := map[string]string{}
	for k, v := range s.Data {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", k, err)
		}
		out[k] = string(b)
	}
	for k, v := range s.StringData {
		out[k] = v
	}
	return out, nil
}

// ConfigMap is a v1 ConfigMap.
type ConfigMap struct {
	Data map[string]string `json:"data"`
}

// NetworkPolicy is a networking.k8s.io/v1 NetworkPolicy.
type NetworkPolicy struct {
	Spec struct {
		PodSelector LabelSelector `json:"podSelector"`
		PolicyTypes []string      `json:"policyTypes"`
		Ingress     []struct {
			From  []PolicyPeer `json:"from"`
			Ports []PolicyPort `json:"ports"`
		} `json:"ingress"`
	} `json:"spec"`
}

// PolicyPeer is one source of a NetworkPolicy ingress rule.
type PolicyPeer struct {
	PodSelector       *LabelSelector `json:"podSelector"`
	NamespaceSelector *LabelSelector `json:"namespaceSelector"`
	IPBlock           *struct {
		CIDR string `json:"cidr"`
	} `json:"ipBlock"`
}

// PolicyPort is one port of a NetworkPolicy ingress rule.
type PolicyPort struct {
	Port     *IntOrString `json:"port"`
	Protocol string       `json:"protocol"`
}

// LabelSelector is a metav1.LabelSelector.
type LabelSelector struct {
	MatchLabels      map[string]string `json:"matchLabels"`
	MatchExpressions []struct {
		Key      string   `json:"key"`
		Operator string   `json:"operator"`
		Values   []string `json:"values"`
	} `json:"matchExpressions"`
}

// Matches reports whether labels satisfy s (the empty selector matches all).
func (s LabelSelector) Matches(labels map[string]string) bool {
	if !SelectorMatches(s.MatchLabels, labels) {
		return false
	}
	for _, e := range s.MatchExpressions {
		v, has := labels[e.Key]
		in := false
		for _, x := range e.Values {
			if x == v {
				in = true
			}
		}
		switch e.Operator {
		case "In":
			if !has || !in {
				return false
			}
		case "NotIn":
			if has && in {
				return false
			}
		case "Exists":
			if !has {
				return false
			}
		case "DoesNotExist":
			if has {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// SelectorMatches reports whether every pair of sel is in labels. An empty
// sel matches everything, as for NetworkPolicy; callers that must not accept
// an empty Service selector check that themselves.
func SelectorMatches(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// ExpandEnv applies Kubernetes' $(VAR) expansion to value, with the variables
// defined so far: $$ is a literal $, and an undefined $(VAR) stays as it is.
func ExpandEnv(value string, defined map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(value); i++ {
		if value[i] != '$' || i+1 == len(value) {
			b.WriteByte(value[i])
			continue
		}
		switch value[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(value[i+2:], ')')
			if end < 0 {
				b.WriteString(value[i:])
				return b.String()
			}
			name := value[i+2 : i+2+end]
			if v, ok := defined[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(value[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// References lists the $(VAR) names that value refers to.
func References(value string) []string {
	var names []string
	for i := 0; i+1 < len(value); i++ {
		if value[i] != '$' {
			continue
		}
		if value[i+1] == '$' {
			i++
			continue
		}
		if value[i+1] != '(' {
			continue
		}
		end := strings.IndexByte(value[i+2:], ')')
		if end < 0 {
			break
		}
		names = append(names, value[i+2:i+2+end])
		i += 2 + end
	}
	return names
}
