import { access, constants } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { VersionSpec } from '../../workflows/model/target';
import { failpoint, type FailpointName } from '../failpoints';
import { FlinkRestError, type FlinkRestClient } from '../flink/rest-client';
import type { DeployRequest, PreparedVersion, TargetAdapter } from './adapter';

/** A job on a session cluster: deployed by uploading its jar and running it through the Flink REST API. */
export class SessionJobAdapter implements TargetAdapter {
  readonly kind = 'session-job' as const;

  constructor(
    private readonly flink: FlinkRestClient,
    private readonly failpoints: Partial<Record<FailpointName, number>> = {},
  ) {}

  currentVersion(): VersionSpec | undefined {
    return undefined; // Flink does not remember which jar a job came from; the job record does.
  }

  /** Uploads the jar while the old job still runs: the upload is not part of the downtime. */
  async prepare(version: VersionSpec): Promise<PreparedVersion> {
    if (version.kind !== 'jar') return {};
    if (!(await readable(version.jar))) throw ApplicationFailure.nonRetryable(`jar ${version.jar} not found or not readable on the worker`, 'JarNotFound');
    return { jarId: await this.flink.uploadJar(version.jar) };
  }

  async discard(prepared: PreparedVersion): Promise<void> {
    if (prepared.jarId) await this.flink.deleteJar(prepared.jarId).catch(() => undefined);
  }

  async deploy(request: DeployRequest): Promise<void> {
    const version = request.version;
    if (version.kind !== 'jar') throw ApplicationFailure.nonRetryable(`a session job is deployed from a jar, not ${version.kind}`, 'InvalidVersion');
    if (await this.jobExists(request.jobId)) {
      // An earlier attempt (or run) got this far: nothing to submit, and the prepared jar is not needed.
      if (request.prepared) await this.discard(request.prepared);
      return;
    }

    const jarId = await this.uploadedJar(request);
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
      if (error instanceof FlinkRestError && error.isDuplicateJobSubmission && (await this.jobExists(request.jobId))) return;
      if (error instanceof FlinkRestError && !error.isUnreachable && error.status !== undefined && error.status < 502) {
        // Flink looked at the program and refused it (cannot restore the state, bad arguments, main failed).
        throw ApplicationFailure.nonRetryable(error.message, 'DeployRejected');
      }
      throw error;
    } finally {
      await this.flink.deleteJar(jarId).catch(() => undefined);
    }
    await failpoint(this.failpoints, 'redeploy.afterSubmit');
  }

  /** The prepared jar if the JobManager still has it (it forgets uploads when it restarts), else a fresh upload. */
  private async uploadedJar(request: DeployRequest): Promise<string> {
    const prepared = request.prepared?.jarId;
    if (prepared && (await this.flink.listJars()).files.some((f) => f.id === prepared)) return prepared;
    const version = request.version as Extract<VersionSpec, { kind: 'jar' }>;
    if (!(await readable(version.jar))) throw ApplicationFailure.nonRetryable(`jar ${version.jar} not found or not readable on the worker`, 'JarNotFound');
    request.heartbeat(`uploading ${version.jar}`);
    return this.flink.uploadJar(version.jar);
  }

  private async jobExists(jobId: string): Promise<boolean> {
    try {
      await this.flink.jobDetails(jobId);
      return true;
    } catch (error) {
      if (error instanceof FlinkRestError && error.isNotFound) return false;
      throw error;
    }
  }
}

async function readable(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

export { readable as isReadableFile };
