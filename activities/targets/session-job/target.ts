import { ApplicationFailure } from '@temporalio/common';
import type { JobSnapshot } from '../../../workflows/model/snapshot';
import type { VersionSpec } from '../../../workflows/model/target';
import { failpoint } from '../../failpoints';
import { snapshotJob } from '../../flink/job-snapshot';
import { FlinkRestError } from '../../flink/rest-client';
import { checkJar } from '../../policy';
import { describeDeployments, type ResolvedCluster } from '../resolve';
import { cancelAndWait, storageDirectoriesOf, jobState, retireJob, runSavepointOperation } from '../rest-control';
import type { DeployRequest, FlinkTarget, PreparedVersion, RetireOutcome, SavepointOperation, TargetDeps, TargetEndpoint, UpgradeFacts } from '../seam';

/** A job on a session cluster: deployed by uploading its jar and running it through the Flink REST API. */
export class SessionJobTarget implements FlinkTarget {
  readonly kind = 'session-job' as const;
  readonly versionKind = 'jar' as const;
  readonly savepointOwner = 'flinkops' as const;
  readonly singleJob = false;
  readonly restUrl: string;
  readonly flink: FlinkTarget['flink'];

  constructor(
    private readonly deps: TargetDeps,
    readonly cluster: ResolvedCluster,
    endpoint: TargetEndpoint,
  ) {
    this.restUrl = endpoint.restUrl;
    this.flink = endpoint.flink;
  }

  get id() {
    return this.cluster.id;
  }

  get ref() {
    return this.cluster.ref;
  }

  deployments() {
    return describeDeployments(this.cluster);
  }

  currentVersion(): VersionSpec | undefined {
    return undefined; // Flink does not remember which jar a job came from; the job record does.
  }

  checkJar(jar: string): Promise<string> {
    return checkJar(jar, this.deps.settings.jars);
  }

  lockScope(jobKey: string) {
    return { cluster: this.cluster.id, jobKey };
  }

  upgradeChecks(_facts: UpgradeFacts) {
    return { checks: [], warnings: [] };
  }

  describeDeploy(): string {
    return 'run {version} on the session cluster {restore}, with a fixed job id so a retry cannot start it twice';
  }

  storageDirectories() {
    return storageDirectoriesOf(this.flink);
  }

  jobFacts(jobId: string): Promise<JobSnapshot> {
    return snapshotJob(this.flink, jobId);
  }

  stopWithSavepoint(operation: SavepointOperation) {
    return runSavepointOperation(this.flink, operation, 'stop');
  }

  triggerSavepoint(operation: SavepointOperation) {
    return runSavepointOperation(this.flink, operation, 'savepoint');
  }

  async cancel(jobId: string, timeoutMs: number): Promise<void> {
    await cancelAndWait(this.flink, jobId, timeoutMs);
  }

  retire(jobId: string, timeoutMs: number): Promise<RetireOutcome> {
    return retireJob(this.flink, jobId, timeoutMs);
  }

  /** Uploads the jar while the old job still runs: the upload is not part of the downtime. */
  async prepare(version: VersionSpec): Promise<PreparedVersion> {
    if (version.kind !== 'jar') return {};
    const jar = await checkJar(version.jar, this.deps.settings.jars);
    return { jarId: await this.flink.uploadJar(jar) };
  }

  async discard(prepared: PreparedVersion): Promise<void> {
    if (prepared.jarId) await this.flink.deleteJar(prepared.jarId).catch(() => undefined);
  }

  async deploy(request: DeployRequest): Promise<void> {
    const version = request.version;
    if (version.kind !== 'jar') throw ApplicationFailure.nonRetryable(`a session job is deployed from a jar, not ${version.kind}`, 'InvalidVersion');
    if ((await jobState(this.flink, request.jobId)) !== undefined) {
      // An earlier attempt (or run) got this far: nothing to submit, and the prepared jar is not needed.
      if (request.prepared) await this.discard(request.prepared);
      return;
    }

    const jarId = await this.uploadedJar(request, version);
    try {
      request.heartbeat(`running ${jarId} as job ${request.jobId}`);
      await this.flink.runJar(jarId, {
        jobId: request.jobId,
        entryClass: version.entryClass,
        programArgs: version.args,
        parallelism: version.parallelism,
        savepointPath: request.restore.path,
        allowNonRestoredState: request.restore.allowNonRestoredState || undefined,
      });
    } catch (error) {
      if (error instanceof FlinkRestError && (error.isDuplicateJobSubmission || error.isUnreachable || (error.status ?? 0) >= 500)) {
        // A submission whose answer was lost may have gone through: the job id says.
        if ((await jobState(this.flink, request.jobId)) !== undefined) return;
      }
      if (error instanceof FlinkRestError && error.status !== undefined && error.status < 500) {
        // Flink looked at the program and refused it (cannot restore the state, bad arguments, main failed).
        throw ApplicationFailure.nonRetryable(error.message, 'DeployRejected');
      }
      throw error;
    } finally {
      await this.flink.deleteJar(jarId).catch(() => undefined);
    }
    await failpoint(this.deps.failpoints, 'redeploy.afterSubmit');
  }

  /** The prepared jar if the JobManager still has it (it forgets uploads when it restarts), else a fresh upload. */
  private async uploadedJar(request: DeployRequest, version: Extract<VersionSpec, { kind: 'jar' }>): Promise<string> {
    const prepared = request.prepared?.jarId;
    if (prepared && (await this.flink.listJars()).files.some((f) => f.id === prepared)) return prepared;
    const jar = await checkJar(version.jar, this.deps.settings.jars);
    request.heartbeat(`uploading ${version.jar}`);
    return this.flink.uploadJar(jar);
  }
}

export function sessionJobTarget(deps: TargetDeps, cluster: ResolvedCluster, endpoint: TargetEndpoint): FlinkTarget {
  return new SessionJobTarget(deps, cluster, endpoint);
}
