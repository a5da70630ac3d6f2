{{/* The release's base name, at most 63 characters. */}}
{{- define "dynamo-metrics.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* A target's objects: the base name and the target's name. Call with (dict "root" $ "target" $t). */}}
{{- define "dynamo-metrics.targetName" -}}
{{- printf "%s-%s" (include "dynamo-metrics.fullname" .root) .target.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dynamo-metrics.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selects one target's pods. Call with (dict "root" $ "target" $t). */}}
{{- define "dynamo-metrics.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .target.name }}
{{- end -}}

{{- define "dynamo-metrics.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "dynamo-metrics.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Settings that cannot work together fail the install with a message. */}}
{{- define "dynamo-metrics.check" -}}
{{- if and .Values.kubernetesDiscovery.enabled .Values.etcd.enabled -}}
{{- fail "kubernetesDiscovery.enabled and etcd.enabled exclude each other: workers register in one of them; set etcd.enabled=false" -}}
{{- end -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.etcd.enabled) (not .Values.kubernetesDiscovery.enabled) -}}
{{- fail "replicas > 1 needs etcd.enabled or kubernetesDiscovery.enabled: without an election every replica would export the same fleet" -}}
{{- end -}}
{{- $names := dict -}}
{{- range .Values.targets -}}
{{- if hasKey $names .name -}}
{{- fail (printf "targets: the name %q is used twice" .name) -}}
{{- end -}}
{{- $_ := set $names .name true -}}
{{- if and .component (not .endpoint) -}}
{{- fail (printf "targets[%s]: component without endpoint (give both, or neither to discover everything)" .name) -}}
{{- end -}}
{{- if and .endpoint (not .component) -}}
{{- fail (printf "targets[%s]: endpoint without component (give both, or neither to discover everything)" .name) -}}
{{- end -}}
{{- end -}}
{{- if and (ne .Values.nats.auth.type "none") (not .Values.nats.auth.existingSecret) -}}
{{- fail (printf "nats.auth.type %s needs nats.auth.existingSecret" .Values.nats.auth.type) -}}
{{- end -}}
{{- end -}}

{{/* The namespaces Kubernetes discovery watches: the values', else the release's. */}}
{{- define "dynamo-metrics.watchedNamespaces" -}}
{{- if .Values.kubernetesDiscovery.namespaces -}}
{{- join "," .Values.kubernetesDiscovery.namespaces -}}
{{- else -}}
{{- .Release.Namespace -}}
{{- end -}}
{{- end -}}
