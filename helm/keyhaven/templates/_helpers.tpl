{{/* Chart name, overridable. */}}
{{- define "keyhaven.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name. */}}
{{- define "keyhaven.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "keyhaven.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* One service's resource name. Takes (dict "root" $ "name" "api"). */}}
{{- define "keyhaven.componentName" -}}
{{- printf "%s-%s" (include "keyhaven.fullname" .root | trunc 46 | trimSuffix "-") .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. Takes (dict "root" $ "name" "api"); name may be empty. */}}
{{- define "keyhaven.labels" -}}
helm.sh/chart: {{ include "keyhaven.chart" .root }}
{{ include "keyhaven.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: keyhaven
{{- end }}

{{/* Selector labels. Takes (dict "root" $ "name" "api"). */}}
{{- define "keyhaven.selectorLabels" -}}
app.kubernetes.io/name: {{ include "keyhaven.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .name }}
app.kubernetes.io/component: {{ .name }}
{{- end }}
{{- end }}

{{- define "keyhaven.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret the services read: yours, or the one the chart creates. */}}
{{- define "keyhaven.secretName" -}}
{{- default (include "keyhaven.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* The Ingress host: ingress.host, else the host of `domain`. */}}
{{- define "keyhaven.ingressHost" -}}
{{- default (urlParse .Values.domain).hostname .Values.ingress.host }}
{{- end }}

{{/*
Whether a secret setting is mounted: its key is named, and (with a chart-made Secret) it has a value.
Takes (dict "root" $ "setting" "DATABASE_URL" "key" "database-url"); prints "true" or nothing.
*/}}
{{- define "keyhaven.secretUsed" -}}
{{- if and .key (or .root.Values.secrets.existingSecret (index .root.Values.secrets.values .setting)) }}true{{ end }}
{{- end }}

{{/* NAME_FILE variables for one service's secrets. Takes (dict "root" $ "name" "api"). */}}
{{- define "keyhaven.secretEnv" -}}
{{- $root := .root }}
{{- range $setting, $key := $root.Values.secrets.keys }}
{{- if include "keyhaven.secretUsed" (dict "root" $root "setting" $setting "key" $key) }}
- name: {{ $setting }}_FILE
  value: /run/secrets/keyhaven/{{ $key }}
{{- end }}
{{- end }}
{{- if and (eq .name "admin") (include "keyhaven.secretUsed" (dict "root" $root "setting" "ADMIN_TOKEN" "key" $root.Values.secrets.adminTokenKey)) }}
- name: ADMIN_TOKEN_FILE
  value: /run/secrets/keyhaven/{{ $root.Values.secrets.adminTokenKey }}
{{- end }}
{{- end }}

{{/* The Secret volume's items for one service: only the files it reads. Takes (dict "root" $ "name" "api"). */}}
{{- define "keyhaven.secretItems" -}}
{{- $root := .root }}
{{- range $setting, $key := $root.Values.secrets.keys }}
{{- if include "keyhaven.secretUsed" (dict "root" $root "setting" $setting "key" $key) }}
- key: {{ $key }}
  path: {{ $key }}
{{- end }}
{{- end }}
{{- if and (eq .name "admin") (include "keyhaven.secretUsed" (dict "root" $root "setting" "ADMIN_TOKEN" "key" $root.Values.secrets.adminTokenKey)) }}
- key: {{ $root.Values.secrets.adminTokenKey }}
  path: {{ $root.Values.secrets.adminTokenKey }}
{{- end }}
{{- end }}

{{/* Stops rendering with a clear message when required settings are missing. */}}
{{- define "keyhaven.validate" -}}
{{- range $setting := list "DATABASE_URL" "REDIS_URL" "AMQP_URL" }}
{{- $key := index $.Values.secrets.keys $setting }}
{{- if not $key }}
{{- fail (printf "secrets.keys.%s must name the key that holds %s" $setting $setting) }}
{{- end }}
{{- if and (not $.Values.secrets.existingSecret) (not (index $.Values.secrets.values $setting)) }}
{{- fail (printf "set secrets.existingSecret (recommended), or secrets.values.%s" $setting) }}
{{- end }}
{{- end }}
{{- if not (hasPrefix "http" .Values.domain) }}
{{- fail "domain must be the public base URL, like https://vault.example.com" }}
{{- end }}
{{- if and .Values.services.notifications.enabled .Values.ingress.enabled (ne .Values.services.notifications.path "/notifications") }}
{{- fail "services.notifications.path must stay /notifications: the clients connect to /notifications/hub" }}
{{- end }}
{{- end }}
