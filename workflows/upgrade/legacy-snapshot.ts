import type { TargetSnapshot } from '../model/snapshot';

/**
 * Observations recorded by 0.1.0 workers have an older shape; a 0.1.0 upgrade that replays on this code must reach
 * the same decisions from them. This fills in what 0.1.0 left implicit (and what a current worker reports itself),
 * and changes nothing in a current snapshot. FROZEN with the 0.1.0 histories.
 */
export function withLegacyDefaults(snapshot: TargetSnapshot): TargetSnapshot {
  const legacy = snapshot as TargetSnapshot & { jarReadable?: boolean };
  if (!snapshot.kind || snapshot.versionKind !== undefined) return snapshot;
  const application = snapshot.kind === 'application';
  const jobKey = snapshot.record?.jobKey;
  return {
    ...snapshot,
    versionKind: application ? 'image' : 'jar',
    ...(legacy.jarReadable === false ? { refusals: [{ field: '--jar', problem: 'not found or not readable on the worker' }] } : {}),
    ...(jobKey || snapshot.job ? { lockScope: application ? { cluster: snapshot.cluster } : undefined } : {}),
  };
}
