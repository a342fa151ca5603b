// Command schemagen writes the strict, standalone JSON schemas kubeconform
// validates our manifests against, for exactly the kinds the manifests use.
//
//	schemagen -openapi swagger.json -source "Kubernetes v1.36.3" -out k8s/schemas rendered.yaml...
//	schemagen -check -out k8s/schemas rendered.yaml...
//
// The input is a Kubernetes apiserver's OpenAPI v2 document (/openapi/v2).
// For each kind found in the given manifests it inlines every $ref (so one
// file is the whole schema), makes every object with declared properties
// reject undeclared ones (kubeconform -strict then catches a misspelt field),
// and widens the two types whose JSON form is looser than the document says:
// IntOrString and Quantity. Files are named as kubeconform's
// "{{ .ResourceKind }}{{ .KindSuffix }}.json" template expects; stale ones
// are removed, so the folder holds the kinds in use and nothing else.
// With -check it writes nothing and fails unless the folder holds exactly
// the schemas of the kinds in use.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"example.com/bookstore/hack/k8s/internal/manifest"
)

func main() {
	openapi := flag.String("openapi", "", "OpenAPI v2 document of a Kubernetes apiserver (swagger.json)")
	source := flag.String("source", "", "where the document came from, recorded in each schema's $comment")
	out := flag.String("out", "", "folder to write the schemas to")
	check := flag.Bool("check", false, "only check that -out holds the schemas of exactly the kinds in use")
	flag.Parse()
	if (*openapi == "" && !*check) || *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: schemagen {-openapi swagger.json -source TEXT | -check} -out DIR manifest.yaml...")
		os.Exit(2)
	}
	var err error
	if *check {
		err = checkFolder(*out, flag.Args())
	} else {
		err = run(*openapi, *source, *out, flag.Args())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}

type gvk struct{ group, version, kind string }

func run(openapiPath, source, outDir string, manifests []string) error {
	kinds, err := kindsIn(manifests)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(openapiPath)
	if err != nil {
		return err
	}
	var doc struct {
		Definitions map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %w", openapiPath, err)
	}
	defs, err := definitionsByKind(doc.Definitions)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	written := map[string]bool{}
	for _, k := range kinds {
		name, ok := defs[k]
		if !ok {
			return fmt.Errorf("the OpenAPI document has no schema for %s (apiVersion %s)", k.kind, apiVersion(k))
		}
		schema, err := standalone(doc.Definitions, name)
		if err != nil {
			return fmt.Errorf("%s: %w", k.kind, err)
		}
		schema["$comment"] = fmt.Sprintf("%s %s from %s, made strict by hack/k8s/cmd/schemagen (make k8s-schemas). Do not edit.",
			apiVersion(k), k.kind, source)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", " ")
		if err := enc.Encode(schema); err != nil {
			return err
		}
		file := FileName(k.kind, apiVersion(k))
		if err := os.WriteFile(filepath.Join(outDir, file), buf.Bytes(), 0o644); err != nil {
			return err
		}
		written[file] = true
		fmt.Printf("  %-48s %s %s (%d KiB)\n", file, apiVersion(k), k.kind, (buf.Len()+1023)/1024)
	}
	old, err := filepath.Glob(filepath.Join(outDir, "*.json"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if !written[filepath.Base(f)] {
			fmt.Printf("  removed %s (kind no longer used)\n", filepath.Base(f))
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkFolder compares the schema files in dir with the kinds in use.
func checkFolder(dir string, manifests []string) error {
	kinds, err := kindsIn(manifests)
	if err != nil {
		return err
	}
	want := map[string]string{}
	for _, k := range kinds {
		want[FileName(k.kind, apiVersion(k))] = apiVersion(k) + " " + k.kind
	}
	have, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	var problems []string
	for _, f := range have {
		if _, ok := want[filepath.Base(f)]; !ok {
			problems = append(problems, fmt.Sprintf("%s: no manifest uses this kind any more", f))
		}
		delete(want, filepath.Base(f))
	}
	for file, kind := range want {
		problems = append(problems, fmt.Sprintf("%s: missing, but the manifests use %s", filepath.Join(dir, file), kind))
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("the schemas do not match the kinds in use; run make k8s-schemas:\n  %s", strings.Join(problems, "\n  "))
	}
	fmt.Printf("%d kinds in use, one schema each\n", len(kinds))
	return nil
}

func apiVersion(k gvk) string {
	if k.group == "" {
		return k.version
	}
	return k.group + "/" + k.version
}

// FileName is the name kubeconform's {{ .ResourceKind }}{{ .KindSuffix }}
// template gives the schema of kind in apiVersion: the group's first label
// only ("networking.k8s.io/v1" -> "-networking-v1").
func FileName(kind, apiVersion string) string {
	group, version, found := strings.Cut(apiVersion, "/")
	suffix := "-" + strings.ToLower(strings.Split(group, ".")[0])
	if found {
		suffix += "-" + strings.ToLower(version)
	}
	return strings.ToLower(kind) + suffix + ".json"
}

// kindsIn lists the distinct kinds of the given manifest files, sorted.
func kindsIn(files []string) ([]gvk, error) {
	seen := map[gvk]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		objs, err := manifest.Split(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, o := range objs {
			if o.Kind == "" || o.APIVersion == "" {
				return nil, fmt.Errorf("%s: a document without apiVersion and kind", f)
			}
			group, version, found := strings.Cut(o.APIVersion, "/")
			if !found {
				group, version = "", o.APIVersion
			}
			seen[gvk{group, version, o.Kind}] = true
		}
	}
	var kinds []gvk
	for k := range seen {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b gvk) int {
		return strings.Compare(FileName(a.kind, apiVersion(a)), FileName(b.kind, apiVersion(b)))
	})
	return kinds, nil
}

// definitionsByKind maps each kind to its definition's name, through the
// x-kubernetes-group-version-kind extension the apiserver sets on top-level
// types.
func definitionsByKind(defs map[string]any) (map[gvk]string, error) {
	out := map[gvk]string{}
	for name, d := range defs {
		m, _ := d.(map[string]any)
		list, _ := m["x-kubernetes-group-version-kind"].([]any)
		// Types shared by many groups (DeleteOptions, WatchEvent) list them
		// all; they are never a manifest's kind.
		if len(list) != 1 {
			continue
		}
		e, _ := list[0].(map[string]any)
		g, _ := e["group"].(string)
		v, _ := e["version"].(string)
		k, _ := e["kind"].(string)
		if v == "" || k == "" {
			return nil, fmt.Errorf("definition %s: malformed x-kubernetes-group-version-kind", name)
		}
		out[gvk{g, v, k}] = name
	}
	return out, nil
}

const refPrefix = "#/definitions/"

// Types whose wire form the document describes too narrowly.
var widened = map[string]map[string]any{
	// "cpu: 1" is as valid as "cpu: 500m".
	"io.k8s.apimachinery.pkg.api.resource.Quantity": {"oneOf": []any{
		map[string]any{"type": "string"}, map[string]any{"type": "number"},
	}},
}

// standalone returns the definition called name with every reference
// inlined and the strictness and widening applied.
func standalone(defs map[string]any, name string) (map[string]any, error) {
	root, err := inline(defs, defs[name], []string{name})
	if err != nil {
		return nil, err
	}
	m, ok := root.(map[string]any)
	if !ok {
		return nil, errors.New("definition is not an object")
	}
	return m, nil
}

func inline(defs map[string]any, node any, stack []string) (any, error) {
	switch n := node.(type) {
	case []any:
		out := make([]any, len(n))
		for i, v := range n {
			var err error
			if out[i], err = inline(defs, v, stack); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		if ref, ok := n["$ref"].(string); ok {
			name, found := strings.CutPrefix(ref, refPrefix)
			if !found {
				return nil, fmt.Errorf("unsupported $ref %q", ref)
			}
			if w, ok := widened[name]; ok {
				return w, nil
			}
			if slices.Contains(stack, name) {
				// Only CRD schemas (JSONSchemaProps) are recursive, and they
				// are no kind of ours.
				return nil, fmt.Errorf("recursive type %s", strings.Join(append(stack, name), " -> "))
			}
			target, ok := defs[name]
			if !ok {
				return nil, fmt.Errorf("dangling $ref %q", ref)
			}
			return inline(defs, target, append(stack, name))
		}
		if n["format"] == "int-or-string" {
			return map[string]any{"oneOf": []any{
				map[string]any{"type": "string"}, map[string]any{"type": "integer"},
			}}, nil
		}
		out := map[string]any{}
		for k, v := range n {
			// Prose and Kubernetes' own extensions only add bytes: the
			// schemas are for validation, the API reference is elsewhere.
			if k == "description" || strings.HasPrefix(k, "x-kubernetes-") {
				continue
			}
			if k == "properties" {
				// Keys of "properties" are field names, not keywords.
				props, _ := v.(map[string]any)
				inl := map[string]any{}
				for field, sch := range props {
					s, err := inline(defs, sch, stack)
					if err != nil {
						return nil, err
					}
					inl[field] = s
				}
				out[k] = inl
				continue
			}
			s, err := inline(defs, v, stack)
			if err != nil {
				return nil, err
			}
			out[k] = s
		}
		if _, has := out["properties"]; has {
			if _, set := out["additionalProperties"]; !set {
				out["additionalProperties"] = false
			}
		}
		return out, nil
	default:
		return node, nil
	}
}
