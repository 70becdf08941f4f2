import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

/**
 * What one workflow run's Temporal history is made of: events by type, activities by name, and where its wall time
 * went (activities running, activities and workflow tasks waiting in their task queue, workflow tasks running).
 */
export interface HistoryBreakdown {
  events: number;
  byType: Record<string, number>;
  activities: Record<string, number>;
  wallMs: number;
  activityQueueMs: number;
  activityRunMs: number;
  workflowTaskQueueMs: number;
  workflowTaskRunMs: number;
  /** The run this one continued as, if it continued as new. */
  continuedAs?: string;
}

export async function fetchEvents(client: Client, workflowId: string, runId?: string): Promise<HistoryEvent[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return history.events ?? [];
}

export function breakdown(events: HistoryEvent[]): HistoryBreakdown {
  const at = (e: HistoryEvent | undefined) => (e?.eventTime ? Number(e.eventTime.seconds ?? 0) * 1000 + Math.round((e.eventTime.nanos ?? 0) / 1e6) : 0);
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  const result: HistoryBreakdown = {
    events: events.length,
    byType: {},
    activities: {},
    wallMs: events.length > 0 ? at(events.at(-1)) - at(events[0]) : 0,
    activityQueueMs: 0,
    activityRunMs: 0,
    workflowTaskQueueMs: 0,
    workflowTaskRunMs: 0,
  };
  for (const event of events) {
    const type = (EventType[event.eventType ?? 0] ?? String(event.eventType)).replace(/^EVENT_TYPE_/, '').toLowerCase();
    result.byType[type] = (result.byType[type] ?? 0) + 1;
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) result.activities[scheduled.activityType?.name ?? '?'] = (result.activities[scheduled.activityType?.name ?? '?'] ?? 0) + 1;
    const started = event.activityTaskStartedEventAttributes;
    if (started) result.activityQueueMs += at(event) - at(byId.get(Number(started.scheduledEventId)));
    const completed = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes;
    if (completed) result.activityRunMs += at(event) - at(byId.get(Number(completed.startedEventId)));
    const wftStarted = event.workflowTaskStartedEventAttributes;
    if (wftStarted) result.workflowTaskQueueMs += at(event) - at(byId.get(Number(wftStarted.scheduledEventId)));
    const wftCompleted = event.workflowTaskCompletedEventAttributes;
    if (wftCompleted) result.workflowTaskRunMs += at(event) - at(byId.get(Number(wftCompleted.startedEventId)));
    const continued = event.workflowExecutionContinuedAsNewEventAttributes;
    if (continued?.newExecutionRunId) result.continuedAs = continued.newExecutionRunId;
  }
  return result;
}

/** Every run of a workflow that continued as new, from its first: the history of each. */
export async function chainBreakdown(client: Client, workflowId: string, firstRunId: string): Promise<HistoryBreakdown[]> {
  const runs: HistoryBreakdown[] = [];
  for (let runId: string | undefined = firstRunId; runId; ) {
    const b = breakdown(await fetchEvents(client, workflowId, runId));
    runs.push(b);
    runId = b.continuedAs;
  }
  return runs;
}

export function describeBreakdown(b: HistoryBreakdown): string {
  return [
    `${b.events} events`,
    `  by type: ${Object.entries(b.byType).map(([t, n]) => `${t} ${n}`).join(', ')}`,
    `  activities: ${Object.entries(b.activities).map(([a, n]) => `${a}${n > 1 ? ` x${n}` : ''}`).join(', ')}`,
  ].join('\n');
}
