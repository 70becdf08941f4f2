import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { z } from 'zod';
import {
  AsyncOperationSchema,
  CheckpointConfigSchema,
  CheckpointingStatisticsSchema,
  ClusterOverviewSchema,
  ErrorBodySchema,
  ExceptionHistorySchema,
  JarListSchema,
  JarRunSchema,
  JarUploadSchema,
  JobDetailsSchema,
  JobManagerConfigSchema,
  JobsOverviewSchema,
  MetricValuesSchema,
  TaskManagerDetailsSchema,
  TaskManagersSchema,
  TriggerResponseSchema,
  type AsyncOperation,
  type CheckpointConfig,
  type CheckpointingStatistics,
  type ClusterOverview,
  type ExceptionHistory,
  type JarList,
  type JobDetails,
  type JobOverview,
  type TaskManager,
  type TaskManagerDetails,
} from './schemas';

export interface FlinkRestClientOptions {
  /** Base URL of the JobManager REST endpoint, e.g. http://flink-jobmanager.flink.svc:8081 */
  baseUrl: string;
  /** Extra headers on every request (authentication through a proxy, for example). Never logged. */
  headers?: Record<string, string>;
  /** Per-request timeout. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /**
   * Extra attempts of an idempotent request (reads, and the operations Flink deduplicates by trigger id) after a
   * connection failure or a 5xx answer, with exponential back-off from `retryBaseMs`. Default 3.
   */
  retries?: number;
  retryBaseMs?: number;
}

/** A failed call to the Flink REST API, with the HTTP status and Flink's own first error line. */
export class FlinkRestError extends Error {
  override readonly name = 'FlinkRestError';

  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number | undefined,
    readonly flinkErrors: string[],
    message: string,
  ) {
    super(message);
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }

  /** Flink refused a submission because a job with that ID exists (running or recently finished). */
  get isDuplicateJobSubmission(): boolean {
    return this.flinkErrors.some((e) => /DuplicateJobSubmissionException|already been submitted/.test(e));
  }

  /** The JobManager could not be reached at all (connection refused, DNS, timeout). */
  get isUnreachable(): boolean {
    return this.status === undefined;
  }
}

export interface TriggerSavepointRequest {
  targetDirectory?: string;
  /** Client-chosen 32-hex-character id; a retry with the same id is answered with the same operation. */
  triggerId: string;
  formatType?: 'CANONICAL' | 'NATIVE';
}

export interface StopWithSavepointRequest extends TriggerSavepointRequest {
  drain?: boolean;
}

export interface RunJarRequest {
  entryClass?: string;
  programArgs?: string[];
  parallelism?: number;
  jobId?: string;
  savepointPath?: string;
  allowNonRestoredState?: boolean;
  restoreMode?: 'NO_CLAIM' | 'CLAIM';
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 3;
const DEFAULT_RETRY_BASE_MS = 250;

/** A typed client for the Flink JobManager REST API (the subset flinkops uses). */
export class FlinkRestClient {
  readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly retries: number;
  private readonly retryBaseMs: number;

  constructor(options: FlinkRestClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.headers = options.headers ?? {};
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetchImpl = options.fetch ?? fetch;
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.retryBaseMs = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
  }

  overview(): Promise<ClusterOverview> {
    return this.get('/overview', ClusterOverviewSchema);
  }

  async listJobs(): Promise<JobOverview[]> {
    return (await this.get('/jobs/overview', JobsOverviewSchema)).jobs;
  }

  /** The TaskManagers registered with the JobManager's ResourceManager. */
  async taskManagers(): Promise<TaskManager[]> {
    return (await this.get('/taskmanagers', TaskManagersSchema)).taskmanagers;
  }

  taskManagerDetails(taskManagerId: string): Promise<TaskManagerDetails> {
    return this.get(`/taskmanagers/${encodeURIComponent(taskManagerId)}`, TaskManagerDetailsSchema);
  }

  jobDetails(jobId: string): Promise<JobDetails> {
    return this.get(`/jobs/${jobId}`, JobDetailsSchema);
  }

  checkpoints(jobId: string): Promise<CheckpointingStatistics> {
    return this.get(`/jobs/${jobId}/checkpoints`, CheckpointingStatisticsSchema);
  }

  /** The job's checkpoint configuration, or undefined when checkpointing is not enabled for it. */
  async checkpointConfig(jobId: string): Promise<CheckpointConfig | undefined> {
    try {
      const config = await this.get(`/jobs/${jobId}/checkpoints/config`, CheckpointConfigSchema);
      // Flink 1.20 and 2.x answer for jobs without checkpointing too, with the interval set to Long.MAX_VALUE.
      return config.interval > 0 && config.interval < Number.MAX_SAFE_INTEGER ? config : undefined;
    } catch (error) {
      if (error instanceof FlinkRestError && error.isNotFound && error.flinkErrors.some((e) => /not enabled/i.test(e))) {
        return undefined;
      }
      throw error;
    }
  }

  exceptions(jobId: string): Promise<ExceptionHistory> {
    return this.get(`/jobs/${jobId}/exceptions`, ExceptionHistorySchema);
  }

  /** Job-level metric values by name; metrics the job does not (yet) report are absent from the result. */
  async jobMetrics(jobId: string, names: string[]): Promise<Record<string, string>> {
    const values = await this.get(`/jobs/${jobId}/metrics?get=${names.map(encodeURIComponent).join(',')}`, MetricValuesSchema);
    return Object.fromEntries(values.map((m) => [m.id, m.value]));
  }

  async jobManagerConfig(): Promise<Record<string, string>> {
    const entries = await this.get('/jobmanager/config', JobManagerConfigSchema);
    return Object.fromEntries(entries.map((e) => [e.key, e.value]));
  }

  async triggerSavepoint(jobId: string, request: TriggerSavepointRequest): Promise<string> {
    const body = {
      'target-directory': request.targetDirectory,
      'cancel-job': false,
      triggerId: request.triggerId,
      formatType: request.formatType,
    };
    // Flink registers an operation under its trigger id once: a repeated request is answered with the same one.
    return (await this.post(`/jobs/${jobId}/savepoints`, body, TriggerResponseSchema, { idempotent: true }))['request-id'];
  }

  async stopWithSavepoint(jobId: string, request: StopWithSavepointRequest): Promise<string> {
    const body = {
      targetDirectory: request.targetDirectory,
      drain: request.drain ?? false,
      triggerId: request.triggerId,
      formatType: request.formatType,
    };
    return (await this.post(`/jobs/${jobId}/stop`, body, TriggerResponseSchema, { idempotent: true }))['request-id'];
  }

  /** Status of a savepoint or stop-with-savepoint operation started with the given trigger id. */
  savepointStatus(jobId: string, triggerId: string): Promise<AsyncOperation> {
    return this.get(`/jobs/${jobId}/savepoints/${triggerId}`, AsyncOperationSchema);
  }

  async cancelJob(jobId: string): Promise<void> {
    await this.request('PATCH', `/jobs/${jobId}?mode=cancel`, undefined, { idempotent: true });
  }

  async disposeSavepoint(savepointPath: string): Promise<string> {
    return (await this.post('/savepoint-disposal', { 'savepoint-path': savepointPath }, TriggerResponseSchema))[
      'request-id'
    ];
  }

  disposalStatus(triggerId: string): Promise<AsyncOperation> {
    return this.get(`/savepoint-disposal/${triggerId}`, AsyncOperationSchema);
  }

  listJars(): Promise<JarList> {
    return this.get('/jars', JarListSchema);
  }

  /** Uploads a jar and returns the id Flink gave it (the file name part of the stored path). */
  async uploadJar(jarPath: string): Promise<string> {
    const form = new FormData();
    form.append('jarfile', new Blob([await readFile(jarPath)], { type: 'application/java-archive' }), basename(jarPath));
    const response = await this.request('POST', '/jars/upload', form);
    const uploaded = this.parse('POST', '/jars/upload', JarUploadSchema, response);
    return basename(uploaded.filename);
  }

  async deleteJar(jarId: string): Promise<void> {
    await this.request('DELETE', `/jars/${encodeURIComponent(jarId)}`);
  }

  async runJar(jarId: string, request: RunJarRequest): Promise<string> {
    const body = {
      entryClass: request.entryClass,
      programArgsList: request.programArgs,
      parallelism: request.parallelism,
      jobId: request.jobId,
      savepointPath: request.savepointPath,
      allowNonRestoredState: request.allowNonRestoredState,
      restoreMode: request.restoreMode,
    };
    return (await this.post(`/jars/${encodeURIComponent(jarId)}/run`, body, JarRunSchema)).jobid;
  }

  private async get<T extends z.ZodType>(path: string, schema: T): Promise<z.infer<T>> {
    return this.parse('GET', path, schema, await this.request('GET', path, undefined, { idempotent: true }));
  }

  private async post<T extends z.ZodType>(path: string, body: unknown, schema: T, options: { idempotent?: boolean } = {}): Promise<z.infer<T>> {
    return this.parse('POST', path, schema, await this.request('POST', path, JSON.stringify(body), options));
  }

  private parse<T extends z.ZodType>(method: string, path: string, schema: T, body: unknown): z.infer<T> {
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const problem = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new FlinkRestError(method, path, 200, [], `${method} ${path}: unexpected response from Flink (${problem})`);
    }
    return parsed.data;
  }

  /**
   * One request; idempotent ones are repeated (bounded, with back-off) after a connection failure or a 5xx answer,
   * so one lost packet is not taken for an answer. Anything else is thrown at once.
   */
  private async request(method: string, path: string, body?: string | FormData, options: { idempotent?: boolean } = {}): Promise<unknown> {
    const attempts = options.idempotent ? this.retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.requestOnce(method, path, body);
      } catch (error) {
        const transient = error instanceof FlinkRestError && (error.status === undefined || error.status >= 500);
        if (!transient || attempt >= attempts) throw error;
        const delay = this.retryBaseMs * 2 ** (attempt - 1);
        await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * (delay / 2)));
      }
    }
  }

  private async requestOnce(method: string, path: string, body?: string | FormData): Promise<unknown> {
    const headers: Record<string, string> = { Accept: 'application/json', ...this.headers };
    if (typeof body === 'string') headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetchImpl(this.baseUrl + path, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const reason = describeNetworkError(error);
      throw new FlinkRestError(method, path, undefined, [], `${method} ${this.baseUrl}${path}: ${reason}`);
    }
    const text = await response.text();
    const json = text.length > 0 ? safeJson(text) : undefined;
    if (!response.ok) {
      const errors = ErrorBodySchema.safeParse(json).data?.errors ?? [];
      const firstLine = errors.map(firstMeaningfulLine).find((l) => l.length > 0) ?? response.statusText;
      throw new FlinkRestError(method, path, response.status, errors, `${method} ${path} failed with HTTP ${response.status}: ${firstLine}`);
    }
    return json;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Flink puts whole Java stack traces into `errors`; the useful part is the deepest "Caused by" or the first line. */
export function firstMeaningfulLine(error: string): string {
  const lines = error.split('\n').map((l) => l.trim());
  const causes = lines.filter((l) => l.startsWith('Caused by:'));
  const chosen = causes.length > 0 ? causes[causes.length - 1]!.slice('Caused by:'.length).trim() : lines[0] ?? '';
  return chosen.length > 500 ? `${chosen.slice(0, 500)}…` : chosen;
}

function describeNetworkError(error: unknown): string {
  // Duck-typed on purpose: fetch errors may come from another realm (Jest, the Temporal sandbox), where
  // `instanceof Error` is false.
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } } | undefined;
  if (err?.name === 'TimeoutError') return 'timed out';
  if (err?.cause?.code) return `${err.cause.code}${err.cause.message ? ` (${err.cause.message})` : ''}`;
  if (err?.cause?.message) return `${err.message ?? 'request failed'} (${err.cause.message})`;
  return err?.message ?? String(error);
}
