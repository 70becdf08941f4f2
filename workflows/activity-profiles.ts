import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

/** Short read-only calls: fail fast, retry a few times. */
export const quickActivities = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});
