import { checkLocation, effectiveSavepointPrefixes } from '../workflows/model/locations';
import type { ActivityContext } from './context';
import { PolicyRefusal } from './policy';
import type { FlinkTarget } from './targets/seam';

/**
 * The savepoint locations the worker itself allows on a target, whatever a workflow's input says: the configured
 * prefixes, or the cluster's own savepoint and checkpoint directories when none are configured.
 */
export async function allowedPrefixes(ctx: ActivityContext, target: FlinkTarget): Promise<string[]> {
  const configured = ctx.settings.savepoints.allowedPrefixes;
  return effectiveSavepointPrefixes(configured, configured.length > 0 ? {} : await target.storageDirectories());
}

/** A location the worker may write to, restore from or dispose of; throws PolicyRefusal naming the field otherwise. */
export async function requireAllowedLocation(ctx: ActivityContext, target: FlinkTarget, location: string, field: string): Promise<string> {
  const check = checkLocation(location, await allowedPrefixes(ctx, target));
  if (!check.ok) throw new PolicyRefusal(field, check.problem);
  return check.location;
}
