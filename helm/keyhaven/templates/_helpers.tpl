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
The Secret of its own a setting is read from (secrets.external.<SETTING>.existingSecret), or nothing.
Takes (dict "root" $ "setting" "DATABASE_URL").
*/}}
{{- define "keyhaven.external" -}}
{{- $ext := index (.root.Values.secrets.external | default dict) .setting | default dict }}
{{- if $ext.existingSecret }}{{ $ext.existingSecret }}{{ end }}
{{- end }}

{{/*
Whether a secret setting is mounted: it comes from a Secret of its own, or its key is named and (with a chart-made
Secret) it has a value. Takes (dict "root" $ "setting" "DATABASE_URL" "key" "database-url"); prints "true" or nothing.
*/}}
{{- define "keyhaven.secretUsed" -}}
{{- if include "keyhaven.external" (dict "root" .root "setting" .setting) }}true
{{- else if and .key (or .root.Values.secrets.existingSecret (index .root.Values.secrets.values .setting)) }}true{{ end }}
{{- end }}

{{/*
The file name of a secret setting under /run/secrets/keyhaven: its key in the chart's Secret, or
external-<setting> for one from a Secret of its own. Takes (dict "root" $ "setting" "DATABASE_URL" "key" "database-url").
*/}}
{{- define "keyhaven.secretFile" -}}
{{- if include "keyhaven.external" (dict "root" .root "setting" .setting) }}external-{{ .setting | lower | replace "_" "-" }}
{{- else }}{{ .key }}{{ end }}
{{- end }}

{{/* NAME_FILE variables for one service's secrets. Takes (dict "root" $ "name" "api"). */}}
{{- define "keyhaven.secretEnv" -}}
{{- $root := .root }}
{{- range $setting, $key := $root.Values.secrets.keys }}
{{- if include "keyhaven.secretUsed" (dict "root" $root "setting" $setting "key" $key) }}
- name: {{ $setting }}_FILE
  value: /run/secrets/keyhaven/{{ include "keyhaven.secretFile" (dict "root" $root "setting" $setting "key" $key) }}
{{- end }}
{{- end }}
{{- if and (eq .name "admin") (include "keyhaven.secretUsed" (dict "root" $root "setting" "ADMIN_TOKEN" "key" $root.Values.secrets.adminTokenKey)) }}
- name: ADMIN_TOKEN_FILE
  value: /run/secrets/keyhaven/{{ $root.Values.secrets.adminTokenKey }}
{{- end }}
{{- end }}

{{/*
The sources of one service's projected secrets volume: the chart's (or your existingSecret's) keys it reads, and
each setting from a Secret of its own. Only the files it reads. Takes (dict "root" $ "name" "api").
*/}}
{{- define "keyhaven.secretSources" -}}
{{- $root := .root }}
{{- $items := list }}
{{- range $setting, $key := $root.Values.secrets.keys }}
{{- if and (include "keyhaven.secretUsed" (dict "root" $root "setting" $setting "key" $key)) (not (include "keyhaven.external" (dict "root" $root "setting" $setting))) }}
{{- $items = append $items $key }}
{{- end }}
{{- end }}
{{- if and (eq .name "admin") (include "keyhaven.secretUsed" (dict "root" $root "setting" "ADMIN_TOKEN" "key" $root.Values.secrets.adminTokenKey)) }}
{{- $items = append $items $root.Values.secrets.adminTokenKey }}
{{- end }}
{{- if $items }}
- secret:
    name: {{ include "keyhaven.secretName" $root }}
    items:
      {{- range $items }}
      - key: {{ . }}
        path: {{ . }}
      {{- end }}
{{- end }}
{{- range $setting, $key := $root.Values.secrets.keys }}
{{- $external := include "keyhaven.external" (dict "root" $root "setting" $setting) }}
{{- if $external }}
- secret:
    name: {{ $external }}
    items:
      - key: {{ (index $root.Values.secrets.external $setting).key }}
        path: {{ include "keyhaven.secretFile" (dict "root" $root "setting" $setting "key" $key) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Stops rendering with a clear message when required settings are missing. */}}
{{- define "keyhaven.validate" -}}
{{- range $setting, $external := .Values.secrets.external }}
{{- if and $external.existingSecret (not $external.key) }}
{{- fail (printf "secrets.external.%s.key must name the key of %s that holds it" $setting $external.existingSecret) }}
{{- end }}
{{- end }}
{{- range $setting := list "DATABASE_URL" "REDIS_URL" "AMQP_URL" }}
{{- if not (include "keyhaven.external" (dict "root" $ "setting" $setting)) }}
{{- $key := index $.Values.secrets.keys $setting }}
{{- if not $key }}
{{- fail (printf "secrets.keys.%s must name the key that holds %s (or set secrets.external.%s)" $setting $setting $setting) }}
{{- end }}
{{- if and (not $.Values.secrets.existingSecret) (not (index $.Values.secrets.values $setting)) }}
{{- fail (printf "set secrets.existingSecret (recommended), secrets.external.%s, or secrets.values.%s" $setting $setting) }}
{{- end }}
{{- end }}
{{- end }}
{{- if not (hasPrefix "http" .Values.domain) }}
{{- fail "domain must be the public base URL, like https://vault.example.com" }}
{{- end }}
{{- if and .Values.services.notifications.enabled .Values.ingress.enabled (ne .Values.services.notifications.path "/notifications") }}
{{- fail "services.notifications.path must stay /notifications: the clients connect to /notifications/hub" }}
{{- end }}
{{- end }}
