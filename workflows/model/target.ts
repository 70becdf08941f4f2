import { z } from 'zod';

/**
 * A Flink cluster named the way kubectl names things: namespace and the name of its JobManager Deployment (or the
 * app.kubernetes.io/instance label of a chart release, e.g. the Bitnami chart's release name).
 */
export const ClusterRefSchema = z.object({
  namespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes namespace name (lower case letters, digits, "-")')
    .max(63),
  name: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes object name (lower case letters, digits, "-", ".")')
    .max(253),
});
export type ClusterRef = z.infer<typeof ClusterRefSchema>;

/** "namespace/name" or "name" (namespace from the default) into a ClusterRef; throws with the field named. */
export function parseClusterRef(text: string, defaultNamespace = 'default'): ClusterRef {
  const parts = text.split('/');
  if (parts.length > 2 || parts.some((p) => p.length === 0)) throw new Error(`cluster: "${text}" is not NAME or NAMESPACE/NAME`);
  const [namespace, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : [defaultNamespace, parts[0]!];
  const parsed = ClusterRefSchema.safeParse({ namespace, name });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`cluster: ${String(issue.path[0])} "${issue.path[0] === 'namespace' ? namespace : name}" ${issue.message}`);
  }
  return parsed.data;
}

export function clusterKey(cluster: ClusterRef): string {
  return `${cluster.namespace}/${cluster.name}`;
}

/**
 * What flinkops operates: a job on a session cluster (REST), an application-mode JobManager Deployment, or the Flink
 * Kubernetes Operator's FlinkSessionJob / application FlinkDeployment (changed through their spec; the operator acts).
 */
export const TARGET_KINDS = ['session-job', 'application', 'operator-session-job', 'operator-deployment'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export const JOB_ID_PATTERN = /^[0-9a-f]{32}$/;

/** How a job's code is deployed: a jar run on a session cluster, or the image of an application cluster. */
export const JarVersionSchema = z.object({
  kind: z.literal('jar'),
  /**
   * Path of the jar on the worker's file system (it uploads it), or, for a FlinkSessionJob, the jarURI the operator
   * fetches (file://, http(s)://).
   */
  jar: z
    .string()
    .min(1)
    .refine((p) => p.startsWith('/') || /^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(p), 'must be an absolute path on the worker (or a URI the Flink Kubernetes Operator fetches)'),
  entryClass: z.string().min(1).optional(),
  args: z.array(z.string()).optional(),
  parallelism: z.number().int().positive().optional(),
});

/** docker reference: [registry[:port]/]path[:tag][@digest] */
export const IMAGE_PATTERN =
  /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

export const ImageVersionSchema = z.object({
  kind: z.literal('image'),
  image: z.string().regex(IMAGE_PATTERN, 'must be an image reference such as registry.example.com/team/job:1.2.3'),
  /** Job arguments after standalone-job's own options; omitted keeps the current ones. */
  args: z.array(z.string()).optional(),
  /** The job's main class (--job-classname; a FlinkDeployment's spec.job.entryClass); omitted keeps the current one. */
  entryClass: z.string().min(1).optional(),
  /** A FlinkDeployment's spec.job.jarURI and spec.flinkVersion; omitted keep the current ones. */
  jarUri: z.string().min(1).optional(),
  flinkVersion: z.string().regex(/^v\d+_\d+$/, 'must be a Flink Kubernetes Operator version such as v1_19').optional(),
});

export const VersionSpecSchema = z.discriminatedUnion('kind', [JarVersionSchema, ImageVersionSchema]);
export type VersionSpec = z.infer<typeof VersionSpecSchema>;
export type JarVersion = z.infer<typeof JarVersionSchema>;
export type ImageVersion = z.infer<typeof ImageVersionSchema>;

export function describeVersion(version: VersionSpec): string {
  if (version.kind === 'image') return version.entryClass ? `${version.image} (${version.entryClass})` : version.image;
  const name = version.jar.split('/').pop() ?? version.jar;
  return version.entryClass ? `${name} (${version.entryClass})` : name;
}

export function sameVersion(a: VersionSpec, b: VersionSpec): boolean {
  return JSON.stringify(normalizeVersion(a)) === JSON.stringify(normalizeVersion(b));
}

function normalizeVersion(v: VersionSpec): unknown {
  return v.kind === 'image'
    ? [v.kind, v.image, v.args ?? null, v.entryClass ?? null, v.jarUri ?? null, v.flinkVersion ?? null]
    : [v.kind, v.jar, v.entryClass ?? null, v.args ?? null, v.parallelism ?? null];
}

/** A stable, Kubernetes-name-safe key for a job: the record name part and lock name part. */
export function jobKeyFor(jobName: string): string {
  const slug = jobName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return `${slug || 'job'}-${fnv1a(jobName).slice(0, 6)}`;
}

/** FNV-1a (32 bit) as hex: short deterministic ids in workflow code, where crypto is not available. */
export function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** A 32-hex-character Flink id (job id, trigger id) derived deterministically from a seed. */
export function flinkIdFrom(seed: string): string {
  let id = '';
  for (let i = 0; id.length < 32; i++) id += fnv1a(`${i}:${seed}`);
  return id.slice(0, 32);
}

/** The version with everything it runs with (jar, entry class, arguments, parallelism), for plans people approve. */
export function describeVersionInFull(version: VersionSpec): string {
  const args = version.args === undefined ? '' : version.args.length === 0 ? ', no arguments' : `, arguments ${JSON.stringify(version.args)}`;
  if (version.kind === 'image') return `${version.image}${args}`;
  const parallelism = version.parallelism !== undefined ? `, parallelism ${version.parallelism}` : '';
  return `${describeVersion(version)}${args}${parallelism}`;
}
