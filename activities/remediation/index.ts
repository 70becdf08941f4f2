import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import type { ClusterHealthSnapshot } from '../../workflows/model/cluster-health';
import { formatDuration } from '../../workflows/model/durations';
import type { JobRecord } from '../../workflows/model/record';
import { clusterKey, JOB_ID_PATTERN, jobKeyFor, type ClusterRef, type JarVersion } from '../../workflows/model/target';
import { jobRecords, type ActivityContext } from '../context';
import { checkJar, PolicyRefusal } from '../policy';
import { openTarget } from '../targets/seam';
import { TERMINAL_JOB_STATES } from '../flink/schemas';
import { pollWithHeartbeats } from '../heartbeat-poll';
import { isConflict, isNotFound } from '../kube/clients';
import { jobReleaseStatus, observeJobRelease } from './job-release';
import { RemediationMemoryStore } from './memory';
import { observeCluster, type ObserveClusterRequest } from './observe-cluster';
import { recoveryStatus, type RecoveryTarget } from './recovery';

export interface EscalationNotice {
  cluster: ClusterRef;
  workflowId: string;
  trigger: 'manual' | 'watch';
  summary: string;
  escalation: string;
  findings: { code: string; severity: string; subject: string; reason: string }[];
  actions: { kind: string; target: string; detail: string }[];
}

export interface RegisterJobRequest {
  cluster: ClusterRef;
  restUrl?: string;
  /** The job's name (or the key of its record). */
  job: string;
  /** The job's id, when it does not run now (otherwise it is looked up by name). */
  jobId?: string;
  version?: JarVersion;
  /** Stop expecting the job to run: remediation no longer brings it back. */
  forget: boolean;
  workflowId: string;
}

/** A workflow run: `flinkops remediate` reuses its workflow id, so runs are told apart by run id. */
export interface RunIdentity {
  workflowId: string;
  runId: string;
}

/** Waits for a JobManager or for TaskManagers are on a lost job's critical path: look often. */
const POLL_MS = 250;
/** Read by the ReplicaSet controller: on a scale-down, pods with a lower cost go first. */
const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
const WEBHOOK_TIMEOUT_MS = 10_000;

/** Observe a cluster's JobManager side, act on it (scale, delete a pod, wait), remember what was done, escalate. */
export function createRemediationActivities(ctx: ActivityContext) {
  const memory = () => new RemediationMemoryStore(ctx.kube);

  return {
    /** Read-only: the snapshot a diagnosis is made from. */
    async observeClusterHealth(request: ObserveClusterRequest): Promise<ClusterHealthSnapshot> {
      return observeCluster(ctx, request);
    },

    /**
     * Sets the JobManager Deployment's replicas (merge patch of spec.replicas: repeating it changes nothing). With
     * `keep`, the pods are first given deletion costs (controller.kubernetes.io/pod-deletion-cost), so the
     * ReplicaSet removes the others and keeps the JobManager that runs the jobs.
     */
    async scaleJobManager(request: { cluster: ClusterRef; deployment: string; replicas: number; keep?: string; remove?: string[] }): Promise<{ previous: number }> {
      const { namespace } = request.cluster;
      const deployment = await ctx.kube.apps.readNamespacedDeployment({ name: request.deployment, namespace });
      const previous = deployment.spec?.replicas ?? 1;
      if (request.keep) {
        const costs: [string, string][] = [[request.keep, '1000'], ...(request.remove ?? []).map((pod): [string, string] => [pod, '-1000'])];
        for (const [pod, cost] of costs) {
          try {
            const body = { metadata: { annotations: { [POD_DELETION_COST]: cost } } };
            await ctx.kube.core.patchNamespacedPod({ name: pod, namespace, body, fieldManager: 'flinkops' }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
          } catch (error) {
            if (!isNotFound(error)) throw error;
          }
        }
      }
      if (previous !== request.replicas) {
        await ctx.kube.apps.patchNamespacedDeployment(
          { name: request.deployment, namespace, body: { spec: { replicas: request.replicas } }, fieldManager: 'flinkops' },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      }
      return { previous };
    },

    /**
     * Deletes one JobManager pod (only the pod with that uid: a replacement is left alone). The deletion is
     * remembered first, so the once-per-window rule holds even if the worker dies right after.
     */
    async deleteJobManagerPod(request: { cluster: ClusterRef; pod: string; uid: string } & RunIdentity): Promise<{ deleted: boolean }> {
      await memory().update(request.cluster, (state, nowMs) => {
        if (!state.podDeletions.some((d) => d.pod === request.pod && d.runId === request.runId)) {
          state.podDeletions.push({ at: nowMs, pod: request.pod, workflowId: request.workflowId, runId: request.runId });
        }
      });
      try {
        await ctx.kube.core.deleteNamespacedPod({ name: request.pod, namespace: request.cluster.namespace, body: { preconditions: { uid: request.uid } } });
        return { deleted: true };
      } catch (error) {
        if (isNotFound(error) || isConflict(error)) return { deleted: false };
        throw error;
      }
    },

    /**
     * Deletes the given TaskManager pods (each only with its uid: a replacement is left alone), so the Deployment
     * starts fresh ones that register with the new JobManager at once. The restart is remembered first, so the
     * once-per-window rule holds even if the worker dies right after.
     */
    async restartTaskManagers(request: { cluster: ClusterRef; pods: { name: string; uid: string }[] } & RunIdentity): Promise<{ deleted: string[] }> {
      await memory().update(request.cluster, (state, nowMs) => {
        const restarts = (state.taskManagerRestarts ??= []);
        if (!restarts.some((r) => r.runId === request.runId)) restarts.push({ at: nowMs, pods: request.pods.map((p) => p.name), workflowId: request.workflowId, runId: request.runId });
      });
      const deleted: string[] = [];
      for (const pod of request.pods) {
        try {
          await ctx.kube.core.deleteNamespacedPod({ name: pod.name, namespace: request.cluster.namespace, body: { preconditions: { uid: pod.uid } } });
          deleted.push(pod.name);
        } catch (error) {
          if (!isNotFound(error) && !isConflict(error)) throw error;
        }
      }
      return { deleted };
    },

    /**
     * Waits (heartbeating) until the JobManager is back: desired pods ready, REST answering, a fresh HA leader when
     * asked, the given jobs RUNNING. Never throws for "not yet": the workflow diagnoses again either way.
     */
    async awaitClusterRecovery(
      request: {
        cluster: ClusterRef;
        restUrl?: string;
        timeoutMs: number;
        stopWhenStuck: boolean;
        /**
         * No HA: also end the wait as soon as the JobManager pod answers on its own address, before the Service routes
         * to it, so the workflow can decide on the lost job's TaskManagers early (`answeredByPod` says it did).
         */
        untilPodAnswers?: boolean;
      } & RecoveryTarget,
    ): Promise<{ recovered: boolean; detail: string; waitedMs: number; stuck?: string; answeredByPod?: string }> {
      let stuck: string | undefined;
      let answeredByPod: string | undefined;
      const waited = await pollWithHeartbeats(request.timeoutMs, POLL_MS, async () => {
        stuck = undefined;
        const snapshot = await observeCluster(ctx, { cluster: request.cluster, restUrl: request.restUrl, light: true, jobIds: request.jobIds, askPod: request.untilPodAnswers });
        const status = recoveryStatus(snapshot, request);
        if (status.recovered) return { detail: status.detail, done: true };
        stuck = status.stuck;
        if (request.untilPodAnswers && snapshot.podAnswer) {
          answeredByPod = snapshot.podAnswer.pod;
          return { detail: `${status.detail}; JobManager pod ${answeredByPod} answers on its own address`, done: false };
        }
        return { detail: status.detail, ...(stuck !== undefined && request.stopWhenStuck ? { done: false } : {}) };
      });
      if (waited.done === true) return { recovered: true, detail: waited.detail, waitedMs: waited.waitedMs };
      const detail = waited.done === false ? waited.detail : `not recovered within ${formatDuration(request.timeoutMs)}: ${waited.detail}`;
      return { recovered: false, detail, waitedMs: waited.waitedMs, ...(stuck ? { stuck } : {}), ...(answeredByPod ? { answeredByPod } : {}) };
    },

    /**
     * Waits (heartbeating) until a lost job's id is free to be submitted again: every ready TaskManager registered
     * with the JobManager, none holding a slot of the job. A TaskManager that outlived a JobManager which did not shut
     * down (killed, its node lost) keeps the job, its slots and its libraries until its heartbeat to that JobManager
     * times out; a submission under the same id before that is offered those slots, and every task fails ("The
     * library registration references a different set of library BLOBs") until Flink gives them up, minutes later.
     */
    async awaitJobReleased(request: {
      cluster: ClusterRef;
      restUrl?: string;
      jobId: string;
      timeoutMs: number;
      /** The uids of TaskManager pods this run restarted: once they are gone, only fresh TaskManagers are left. */
      restartedPods?: string[];
    }): Promise<{ released: boolean; detail: string; waitedMs: number }> {
      const waited = await pollWithHeartbeats(request.timeoutMs, POLL_MS, async () => {
        const status = jobReleaseStatus(request.jobId, await observeJobRelease(ctx, request));
        return { detail: status.detail, ...(status.released ? { done: true } : {}) };
      });
      return { released: waited.done === true, detail: waited.detail, waitedMs: waited.waitedMs };
    },

    /** A run that acts counts against the cluster's rate limit (once per run). */
    async recordRemediationRun(request: { cluster: ClusterRef } & RunIdentity): Promise<{ lastHour: number }> {
      return memory().update(request.cluster, (state, nowMs) => {
        if (!state.remediations.some((r) => r.runId === request.runId)) state.remediations.push({ at: nowMs, workflowId: request.workflowId, runId: request.runId });
        return { lastHour: state.remediations.filter((r) => r.at > nowMs - 3_600_000).length };
      });
    },

    /** Remembers an escalation; says whether to notify (a new problem, or the same one after the repeat interval). */
    async recordEscalation(request: { cluster: ClusterRef; fingerprint: string; repeatMs: number } & RunIdentity): Promise<{ notify: boolean; previous?: { at: number; workflowId: string } }> {
      return memory().update(request.cluster, (state, nowMs) => {
        const previous = state.lastEscalation;
        if (previous?.runId === request.runId) return { notify: true }; // a retry of this very call
        const repeated = previous && previous.fingerprint === request.fingerprint && nowMs - previous.at < request.repeatMs;
        if (!repeated) state.lastEscalation = { at: nowMs, fingerprint: request.fingerprint, workflowId: request.workflowId, runId: request.runId };
        return repeated ? { notify: false, previous: { at: previous.at, workflowId: previous.workflowId } } : { notify: true };
      });
    },

    /**
     * POSTs the escalation as JSON to the webhook in the worker's settings (FLINKOPS_ESCALATION_WEBHOOK_URL). The URL
     * stays in the worker: it is never part of a workflow's input or history.
     */
    async notifyEscalation(notice: EscalationNotice): Promise<{ sent: boolean; detail: string }> {
      const url = ctx.settings.remediation.escalationWebhookUrl?.reveal();
      if (!url) return { sent: false, detail: 'no escalation webhook configured' };
      const body = { kind: 'flinkops.remediation.escalated', at: new Date().toISOString(), ...notice, cluster: clusterKey(notice.cluster) };
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        });
      } catch (error) {
        // The message names the host, never the full URL (it may carry a token).
        throw new Error(`escalation webhook on ${new URL(url).host} not reachable: ${(error as Error).message}`, { cause: error });
      }
      if (!response.ok) throw new Error(`escalation webhook on ${new URL(url).host} answered HTTP ${response.status}`);
      return { sent: true, detail: `notified the escalation webhook on ${new URL(url).host}` };
    },

    /** Tells flinkops about a job it never operated (or to stop expecting one to run), in the job's record. */
    async registerJob(request: RegisterJobRequest): Promise<{ record: JobRecord; message: string }> {
      const target = await openTarget(ctx, { cluster: request.cluster, restUrl: request.restUrl }).catch((error: unknown) => {
        if (error instanceof PolicyRefusal) throw ApplicationFailure.nonRetryable(error.message, 'PolicyRefused');
        throw error;
      });
      if ('problem' in target) throw ApplicationFailure.nonRetryable(target.problem, 'RegisterRefused');
      if (target.singleJob) {
        throw ApplicationFailure.nonRetryable(`${clusterKey(request.cluster)} is an application cluster: its job is part of its Deployment, there is nothing to register`, 'RegisterRefused');
      }
      const store = jobRecords(ctx);
      const cluster = target.id;
      const existing = (await store.list(cluster)).records.find((r) => r.jobName === request.job || r.jobKey === request.job);
      const entry = (outcome: string, message: string, jobId?: string) => ({
        at: new Date().toISOString(),
        workflowId: request.workflowId,
        operation: 'register',
        outcome,
        message,
        ...(jobId ? { jobId } : {}),
        ...(request.version ? { to: request.version } : {}),
      });
      if (request.forget) {
        if (!existing) throw ApplicationFailure.nonRetryable(`flinkops has no record of a job "${request.job}" on ${clusterKey(request.cluster)}`, 'RegisterRefused');
        const message = `remediation no longer brings job ${existing.jobName} back`;
        const record = await store.update(cluster, existing, (r) => {
          r.expectRunning = false;
          pushHistory(r, entry('forgotten', message));
        });
        return { record, message };
      }
      if (!request.version) throw ApplicationFailure.nonRetryable('version: a jar is needed to register a job', 'RegisterRefused');
      // The jar is what remediation would upload later: the same policy as an upgrade's --jar, checked now.
      await checkJar(request.version.jar, ctx.settings.jars).catch((error: unknown) => {
        if (error instanceof PolicyRefusal) throw ApplicationFailure.nonRetryable(error.message, 'PolicyRefused');
        throw error;
      });
      const jobs = await target.flink.listJobs();
      let jobId = request.jobId;
      let jobName = existing?.jobName ?? request.job;
      if (jobId) {
        if (!JOB_ID_PATTERN.test(jobId)) throw ApplicationFailure.nonRetryable(`job id ${jobId} is not 32 hex characters`, 'RegisterRefused');
        jobName = jobs.find((j) => j.jid === jobId)?.name ?? jobName;
      } else {
        const running = jobs.filter((j) => (j.name === request.job || j.jid === existing?.currentJobId) && !TERMINAL_JOB_STATES.includes(j.state));
        if (running.length === 0) throw ApplicationFailure.nonRetryable(`no running job named "${request.job}" on ${clusterKey(request.cluster)}: pass its id with --job-id`, 'RegisterRefused');
        if (running.length > 1) throw ApplicationFailure.nonRetryable(`${running.length} running jobs are named "${request.job}" (${running.map((j) => j.jid).join(', ')}): pass one with --job-id`, 'RegisterRefused');
        jobId = running[0]!.jid;
        jobName = running[0]!.name;
      }
      const init = { kind: target.kind, jobKey: existing?.jobKey ?? jobKeyFor(jobName), jobName, currentJobId: jobId };
      const message = `registered job ${jobName} (${jobId}): remediation resubmits it from its newest checkpoint or savepoint if a JobManager loses it`;
      const record = await store.update(cluster, init, (r) => {
        r.currentJobId = jobId;
        r.currentVersion = request.version;
        r.expectRunning = true;
        pushHistory(r, entry('registered', message, jobId));
      });
      return { record, message };
    },
  };
}

function pushHistory(record: JobRecord, entry: JobRecord['history'][number]): void {
  record.history.push(entry);
}
