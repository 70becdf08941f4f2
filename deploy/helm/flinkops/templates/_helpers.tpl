{{- define "flinkops.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "flinkops.selectorLabels" -}}
app.kubernetes.io/name: flinkops
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: worker
{{- end -}}

{{- define "flinkops.labels" -}}
app.kubernetes.io/name: flinkops
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ include "flinkops.imageTag" . | quote }}
{{- if not .Values.plainManifests }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}
{{- end -}}

{{- define "flinkops.serviceAccountName" -}}
{{- default (include "flinkops.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "flinkops.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{- define "flinkops.secretsDir" -}}/var/run/secrets/flinkops{{- end -}}

{{/* The worker's config.yaml: what the values say, then .Values.config merged over it. */}}
{{- define "flinkops.config" -}}
{{- $secrets := include "flinkops.secretsDir" . -}}
{{- $temporal := dict "address" .Values.temporal.address "namespace" .Values.temporal.namespace "taskQueue" .Values.temporal.taskQueue -}}
{{- if .Values.temporal.apiKey.existingSecret -}}
{{- $_ := set $temporal "apiKey" (dict "file" (printf "%s/temporal-api-key/%s" $secrets .Values.temporal.apiKey.key)) -}}
{{- end -}}
{{- if .Values.temporal.tls.enabled -}}
{{- $tls := dict "enabled" true -}}
{{- if .Values.temporal.tls.existingSecret -}}
{{- $dir := printf "%s/temporal-tls" $secrets -}}
{{- if .Values.temporal.tls.caKey }}{{ $_ := set $tls "serverCaFile" (printf "%s/%s" $dir .Values.temporal.tls.caKey) }}{{ end -}}
{{- if and .Values.temporal.tls.certKey .Values.temporal.tls.keyKey -}}
{{- $_ := set $tls "clientCertFile" (printf "%s/%s" $dir .Values.temporal.tls.certKey) -}}
{{- $_ := set $tls "clientKeyFile" (printf "%s/%s" $dir .Values.temporal.tls.keyKey) -}}
{{- end -}}
{{- end -}}
{{- if .Values.temporal.tls.serverName }}{{ $_ := set $tls "serverName" .Values.temporal.tls.serverName }}{{ end -}}
{{- $_ := set $temporal "tls" $tls -}}
{{- end -}}
{{- $flink := dict "serviceAddressing" "dns" "podAddressing" .Values.flink.podAddressing -}}
{{- if .Values.flink.headers -}}
{{- $headers := dict -}}
{{- range .Values.flink.headers -}}
{{- $_ := set $headers .name (dict "file" (printf "%s/flink-headers/%s" $secrets (lower .name))) -}}
{{- end -}}
{{- $_ := set $flink "headers" $headers -}}
{{- end -}}
{{- $prefixes := .Values.savepoints.allowedPrefixes -}}
{{- if and .Values.savepoints.enabled (not $prefixes) -}}
{{- $prefixes = list (printf "file://%s" .Values.savepoints.mountPath) -}}
{{- end -}}
{{- $worker := dict "shutdownGraceTime" .Values.worker.shutdownGraceTime -}}
{{- if .Values.worker.versioning.enabled -}}
{{- $_ := set $worker "versioning" (dict "deploymentName" .Values.worker.versioning.deploymentName "buildId" (include "flinkops.imageTag" .) "defaultBehavior" .Values.worker.versioning.defaultBehavior "promote" .Values.worker.versioning.promote) -}}
{{- end -}}
{{- $config := dict
  "temporal" $temporal
  "flink" $flink
  "savepoints" (dict "allowedPrefixes" $prefixes)
  "jars" (dict "allowedDirectories" (ternary (list .Values.jars.mountPath) (list) .Values.jars.enabled) "allowedUris" (.Values.jars.allowedUris | default (list)))
  "worker" $worker
  "metrics" (dict "bindAddress" (printf "0.0.0.0:%v" .Values.metrics.port))
  "health" (dict "bindAddress" (printf "0.0.0.0:%v" .Values.health.port))
-}}
{{- if .Values.remediation.escalationWebhook.existingSecret -}}
{{- $_ := set $config "remediation" (dict "escalationWebhookUrl" (dict "file" (printf "%s/escalation-webhook/%s" $secrets .Values.remediation.escalationWebhook.key))) -}}
{{- end -}}
{{- mustMergeOverwrite $config (deepCopy .Values.config) | toYaml -}}
{{- end -}}
