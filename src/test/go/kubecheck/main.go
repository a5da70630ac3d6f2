// Command kubecheck reads Kubernetes manifests (one or more YAML files of `---`-separated
// documents, as `helm template` writes them) and decodes every object strictly into its
// Kubernetes or Prometheus Operator API type: an unknown kind, an unknown or duplicated field,
// or a value of the wrong type is an error. It also checks names and labels as the API server
// would, and that each workload's selector matches its pod template.
//
// Usage: kubecheck FILE...
// Prints one line per object checked; exits 1 with one line per problem.
package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// object is what every API type here is: it has ObjectMeta.
type object interface {
	GetName() string
	GetNamespace() string
	GetLabels() map[string]string
	GetAnnotations() map[string]string
}

// types maps apiVersion/kind to a new empty object of its API type.
var types = map[string]func() object{
	"apps/v1/Deployment":                       func() object { return &appsv1.Deployment{} },
	"v1/Service":                               func() object { return &corev1.Service{} },
	"v1/ServiceAccount":                        func() object { return &corev1.ServiceAccount{} },
	"v1/ConfigMap":                             func() object { return &corev1.ConfigMap{} },
	"v1/Secret":                                func() object { return &corev1.Secret{} },
	"policy/v1/PodDisruptionBudget":            func() object { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/NetworkPolicy":       func() object { return &networkingv1.NetworkPolicy{} },
	"rbac.authorization.k8s.io/v1/Role":        func() object { return &rbacv1.Role{} },
	"rbac.authorization.k8s.io/v1/RoleBinding": func() object { return &rbacv1.RoleBinding{} },
	"monitoring.coreos.com/v1/ServiceMonitor":  func() object { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule":  func() object { return &monitoringv1.PrometheusRule{} },
	"monitoring.coreos.com/v1/PodMonitor":      func() object { return &monitoringv1.PodMonitor{} },
}

var separator = regexp.MustCompile(`(?m)^---\s*$`)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kubecheck FILE...")
		os.Exit(2)
	}
	var problems []string
	checked := 0
	for _, file := range os.Args[1:] {
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kubecheck:", err)
			os.Exit(2)
		}
		for i, doc := range separator.Split(string(data), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			where := fmt.Sprintf("%s: document %d", file, i)
			name, errs := check([]byte(doc))
			if name != "" {
				where = fmt.Sprintf("%s: %s", file, name)
			}
			for _, e := range errs {
				problems = append(problems, where+": "+e)
			}
			if len(errs) == 0 {
				fmt.Println("ok", where)
			}
			checked++
		}
	}
	if checked == 0 {
		problems = append(problems, "no objects found")
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}

func stripComments(doc string) string {
	var b bytes.Buffer
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// check decodes one document strictly and validates it; it returns "Kind/name" and the problems.
func check(doc []byte) (string, []string) {
	var meta metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return "", []string{"not YAML: " + err.Error()}
	}
	newObject, ok := types[meta.APIVersion+"/"+meta.Kind]
	if !ok {
		return "", []string{fmt.Sprintf("unknown apiVersion/kind %s/%s", meta.APIVersion, meta.Kind)}
	}
	obj := newObject()
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return meta.Kind, []string{"does not match the API type: " + err.Error()}
	}
	id := meta.Kind + "/" + obj.GetName()
	var errs []string
	errs = append(errs, prefixed("metadata.name", validation.IsDNS1123Subdomain(obj.GetName()))...)
	if meta.Kind == "Service" || meta.Kind == "Deployment" {
		errs = append(errs, prefixed("metadata.name", validation.IsDNS1123Label(obj.GetName()))...)
	}
	if obj.GetNamespace() != "" {
		errs = append(errs, prefixed("metadata.namespace", validation.IsDNS1123Label(obj.GetNamespace()))...)
	}
	errs = append(errs, checkLabels("metadata.labels", obj.GetLabels())...)
	for k := range obj.GetAnnotations() {
		errs = append(errs, prefixed("metadata.annotations", validation.IsQualifiedName(k))...)
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		errs = append(errs, checkDeployment(o)...)
	case *corev1.Service:
		if len(o.Spec.Selector) == 0 {
			errs = append(errs, "spec.selector is empty: the Service would select no pods it owns")
		}
		for _, p := range o.Spec.Ports {
			errs = append(errs, prefixed("spec.ports.name", validation.IsValidPortName(p.Name))...)
		}
	case *policyv1.PodDisruptionBudget:
		errs = append(errs, checkSelector("spec.selector", o.Spec.Selector, nil)...)
	case *corev1.ConfigMap:
		for k := range o.Data {
			errs = append(errs, prefixed("data key", validation.IsConfigMapKey(k))...)
		}
	case *monitoringv1.PrometheusRule:
		if len(o.Spec.Groups) == 0 {
			errs = append(errs, "spec.groups is empty")
		}
	case *monitoringv1.ServiceMonitor:
		if len(o.Spec.Endpoints) == 0 {
			errs = append(errs, "spec.endpoints is empty")
		}
		errs = append(errs, checkSelector("spec.selector", &o.Spec.Selector, nil)...)
	}
	return id, errs
}

func checkDeployment(d *appsv1.Deployment) []string {
	errs := checkSelector("spec.selector", d.Spec.Selector, d.Spec.Template.Labels)
	errs = append(errs, checkLabels("spec.template.metadata.labels", d.Spec.Template.Labels)...)
	spec := d.Spec.Template.Spec
	if len(spec.Containers) == 0 {
		errs = append(errs, "spec.template.spec.containers is empty")
	}
	volumes := map[string]bool{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = true
	}
	for _, c := range spec.Containers {
		ports := map[string]bool{}
		for _, p := range c.Ports {
			ports[p.Name] = true
		}
		for _, probe := range []*corev1.Probe{c.StartupProbe, c.LivenessProbe, c.ReadinessProbe} {
			if port := probePort(probe); port != "" && !ports[port] {
				errs = append(errs, fmt.Sprintf("container %s: a probe names port %q, which the container does not have", c.Name, probePort(probe)))
			}
		}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				errs = append(errs, fmt.Sprintf("container %s mounts volume %q, which the pod does not have", c.Name, m.Name))
			}
		}
		names := map[string]bool{}
		for _, e := range c.Env {
			if names[e.Name] {
				errs = append(errs, fmt.Sprintf("container %s: env %s is set twice", c.Name, e.Name))
			}
			names[e.Name] = true
			errs = append(errs, prefixed("env name", validation.IsEnvVarName(e.Name))...)
		}
	}
	return errs
}

func checkSelector(field string, s *metav1.LabelSelector, template map[string]string) []string {
	if s == nil || (len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0) {
		return []string{field + " is empty"}
	}
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return []string{field + ": " + err.Error()}
	}
	if template != nil && !sel.Matches(labels.Set(template)) {
		return []string{field + " does not match the pod template's labels"}
	}
	return nil
}

func checkLabels(field string, l map[string]string) []string {
	var errs []string
	for k, v := range l {
		errs = append(errs, prefixed(field+" key "+k, validation.IsQualifiedName(k))...)
		errs = append(errs, prefixed(field+" value "+v, validation.IsValidLabelValue(v))...)
	}
	return errs
}

func prefixed(field string, errs []string) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, field+": "+e)
	}
	return out
}

// probePort is the named port a probe uses, or "".
func probePort(p *corev1.Probe) string {
	switch {
	case p == nil:
		return ""
	case p.HTTPGet != nil:
		return p.HTTPGet.Port.StrVal
	case p.TCPSocket != nil:
		return p.TCPSocket.Port.StrVal
	}
	return ""
}
