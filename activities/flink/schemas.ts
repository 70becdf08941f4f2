import { z } from 'zod';

/**
 * Response shapes of the Flink REST API that flinkops relies on. Only the fields we read are declared;
 * unknown fields are dropped, so the same schemas parse Flink 1.20 and 2.x answers.
 */

export const JobStateSchema = z.enum([
  'INITIALIZING',
  'CREATED',
  'RUNNING',
  'FAILING',
  'FAILED',
  'CANCELLING',
  'CANCELED',
  'FINISHED',
  'RESTARTING',
  'SUSPENDED',
  'RECONCILING',
]);
export type JobState = z.infer<typeof JobStateSchema>;

export const TERMINAL_JOB_STATES: readonly JobState[] = ['FAILED', 'CANCELED', 'FINISHED'];

export const ClusterOverviewSchema = z.object({
  taskmanagers: z.number(),
  'slots-total': z.number(),
  'slots-available': z.number(),
  'jobs-running': z.number(),
  'flink-version': z.string(),
});
export type ClusterOverview = z.infer<typeof ClusterOverviewSchema>;

export const TaskManagerSchema = z.object({
  id: z.string(),
  /** 0 until the ResourceManager has the TaskManager's slot report (it arrives right after the registration). */
  slotsNumber: z.number(),
  freeSlots: z.number(),
});
export const TaskManagersSchema = z.object({ taskmanagers: z.array(TaskManagerSchema) });
export type TaskManager = z.infer<typeof TaskManagerSchema>;

export const TaskManagerDetailsSchema = TaskManagerSchema.extend({
  /** The slots the TaskManager reported as allocated, with the job each one belongs to. */
  allocatedSlots: z.array(z.object({ jobId: z.string() })),
});
export type TaskManagerDetails = z.infer<typeof TaskManagerDetailsSchema>;

export const JobOverviewSchema = z.object({
  jid: z.string(),
  name: z.string(),
  state: JobStateSchema,
  'start-time': z.number(),
  'end-time': z.number(),
});
export const JobsOverviewSchema = z.object({ jobs: z.array(JobOverviewSchema) });
export type JobOverview = z.infer<typeof JobOverviewSchema>;

export const VertexSchema = z.object({
  id: z.string(),
  name: z.string(),
  parallelism: z.number(),
  status: z.string(),
  tasks: z.record(z.string(), z.number()),
});

export const JobDetailsSchema = z.object({
  jid: z.string(),
  name: z.string(),
  state: JobStateSchema,
  'start-time': z.number(),
  'end-time': z.number(),
  now: z.number(),
  timestamps: z.record(z.string(), z.number()),
  vertices: z.array(VertexSchema),
});
export type JobDetails = z.infer<typeof JobDetailsSchema>;

const CheckpointRefSchema = z
  .object({
    id: z.number(),
    external_path: z.string().optional(),
    latest_ack_timestamp: z.number().optional(),
    trigger_timestamp: z.number().optional(),
    restore_timestamp: z.number().optional(),
    is_savepoint: z.boolean().optional(),
  })
  .nullable()
  .optional();

export const CheckpointingStatisticsSchema = z.object({
  counts: z.object({
    restored: z.number(),
    total: z.number(),
    in_progress: z.number(),
    completed: z.number(),
    failed: z.number(),
  }),
  latest: z.object({
    completed: CheckpointRefSchema,
    savepoint: CheckpointRefSchema,
    failed: CheckpointRefSchema,
    restored: CheckpointRefSchema,
  }),
});
export type CheckpointingStatistics = z.infer<typeof CheckpointingStatisticsSchema>;

export const CheckpointConfigSchema = z.object({
  mode: z.string(),
  interval: z.number(),
  timeout: z.number(),
  externalization: z
    .object({ enabled: z.boolean(), delete_on_cancellation: z.boolean() })
    .optional(),
});
export type CheckpointConfig = z.infer<typeof CheckpointConfigSchema>;

export const TriggerResponseSchema = z.object({ 'request-id': z.string() });

const FailureCauseSchema = z
  .object({
    class: z.string().optional(),
    'stack-trace': z.string().optional(),
    'serialized-throwable': z.string().optional(),
  })
  .loose();

export const AsyncOperationSchema = z.object({
  status: z.object({ id: z.enum(['IN_PROGRESS', 'COMPLETED']) }),
  operation: z
    .object({
      location: z.string().optional(),
      'failure-cause': FailureCauseSchema.optional(),
    })
    .nullable()
    .optional(),
});
export type AsyncOperation = z.infer<typeof AsyncOperationSchema>;

export const JarUploadSchema = z.object({ filename: z.string(), status: z.string() });

export const JarListSchema = z.object({
  files: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      uploaded: z.number(),
      entry: z.array(z.object({ name: z.string() })).optional(),
    }),
  ),
});
export type JarList = z.infer<typeof JarListSchema>;

export const JarRunSchema = z.object({ jobid: z.string() });

export const JobManagerConfigSchema = z.array(z.object({ key: z.string(), value: z.string() }));

export const ExceptionHistorySchema = z.object({
  'root-exception': z.string().nullable().optional(),
  exceptionHistory: z
    .object({
      entries: z.array(
        z.object({ exceptionName: z.string(), stacktrace: z.string(), timestamp: z.number() }).loose(),
      ),
    })
    .optional(),
});
export type ExceptionHistory = z.infer<typeof ExceptionHistorySchema>;

export const MetricValuesSchema = z.array(z.object({ id: z.string(), value: z.string() }));

export const ErrorBodySchema = z.object({ errors: z.array(z.string()) });
