/**
 * Every failure type flinkops raises, in one place: whether retrying can help (activities throw the permanent ones
 * as non-retryable, so a wrong kubeconfig fails at once instead of after a minute of retries), what the CLI's exit
 * code says about it, and the one-line hint a person gets.
 *
 * Exit classes map to the CLI's exit codes (client/exit-codes.ts): invalid 2 (nothing changed: bad input or a
 * refusal), failed 1 (the operation ran and failed), aborted 3, unavailable 6 (flinkops or what it depends on
 * cannot do its work now: credentials refused, an API not answering, no worker).
 */
export type ExitClass = 'invalid' | 'failed' | 'aborted' | 'unavailable';

export interface FailureSpec {
  retryable: boolean;
  exit: ExitClass;
  hint?: string;
}

export const FAILURE_TYPES = {
  // Input and policy: nothing was changed.
  InvalidRequest: { retryable: false, exit: 'invalid', hint: 'fix the field named in the message' },
  PreflightRefused: { retryable: false, exit: 'invalid' },
  SavepointPreflightFailed: { retryable: false, exit: 'invalid' },
  RegisterRefused: { retryable: false, exit: 'invalid' },
  PolicyRefused: { retryable: false, exit: 'invalid', hint: "the worker's configuration does not allow this input (README: Security)" },
  RecordInvalid: {
    retryable: false,
    exit: 'failed',
    hint: "flinkops' record of the job (ConfigMap flinkops-<cluster>-<job>) was edited into something flinkops cannot read: fix or delete it",
  },

  // Kubernetes API answers. 409 and 429 are worth another try; the rest will not change by retrying.
  KubernetesUnauthorized: { retryable: false, exit: 'unavailable', hint: "the worker's Kubernetes credentials were refused (401): check its kubeconfig or ServiceAccount token" },
  KubernetesForbidden: { retryable: false, exit: 'unavailable', hint: "the worker's ServiceAccount may not do this (403): apply flinkops' Role in that namespace (README: RBAC)" },
  KubernetesNotFound: { retryable: false, exit: 'failed', hint: 'the Kubernetes object is gone (404)' },
  KubernetesInvalid: { retryable: false, exit: 'failed', hint: 'the API server rejected the request as invalid (400/422)' },
  KubernetesConflict: { retryable: true, exit: 'failed' },
  KubernetesUnavailable: { retryable: true, exit: 'unavailable', hint: 'the Kubernetes API server did not answer or was overloaded (429/5xx, connection refused): check the worker\'s kubeconfig server address and the API server' },

  // Flink REST answers.
  FlinkUnavailable: { retryable: true, exit: 'unavailable', hint: 'the Flink REST API did not answer (5xx, timeout, connection refused): is the JobManager up, and does the worker reach it (flink.serviceAddressing, --rest-url)?' },
  FlinkUnauthorized: { retryable: false, exit: 'unavailable', hint: 'the Flink REST API refused the worker (401/403): check flink.headers and flink.tls' },
  FlinkRejected: { retryable: false, exit: 'failed', hint: 'Flink refused the request (4xx); the message says why' },
  FlinkUnexpectedAnswer: { retryable: true, exit: 'failed', hint: 'something that is not Flink answered at the REST address (a proxy page?)' },
  TargetUnavailable: { retryable: true, exit: 'unavailable', hint: 'the cluster could not be found or reached right now' },

  // Deployment steps.
  JarNotFound: { retryable: false, exit: 'invalid' },
  NotAJar: { retryable: false, exit: 'invalid' },
  InvalidVersion: { retryable: false, exit: 'invalid' },
  UnsupportedDeployment: { retryable: false, exit: 'invalid' },
  DeployRejected: { retryable: false, exit: 'failed' },
  RolloutFailed: { retryable: false, exit: 'failed' },
  RolloutTimedOut: { retryable: false, exit: 'failed' },
  CancelTimedOut: { retryable: false, exit: 'failed' },

  // Outcomes of operations.
  SavepointFailed: { retryable: false, exit: 'failed' },
  UpgradeRolledBack: { retryable: false, exit: 'failed' },
  RollbackFailed: { retryable: false, exit: 'failed', hint: 'a human must bring the job back: the message names the savepoint and what runs' },
  UpgradeAborted: { retryable: false, exit: 'aborted' },
  NeedsHuman: { retryable: false, exit: 'failed' },
  FleetSavepointsFailed: { retryable: false, exit: 'failed' },
  ClusterUpgradeFailed: { retryable: false, exit: 'failed' },
} as const satisfies Record<string, FailureSpec>;

export type FailureType = keyof typeof FAILURE_TYPES;

export function failureSpec(type: string | undefined): FailureSpec | undefined {
  return type !== undefined && Object.prototype.hasOwnProperty.call(FAILURE_TYPES, type) ? (FAILURE_TYPES as Record<string, FailureSpec>)[type] : undefined;
}

/** Failure types no retry can fix: the activity retry policies list them as non-retryable. */
export const NON_RETRYABLE_FAILURE_TYPES: string[] = Object.entries(FAILURE_TYPES as Record<string, FailureSpec>)
  .filter(([, spec]) => !spec.retryable)
  .map(([type]) => type);
