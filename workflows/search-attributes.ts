import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes every flinkops workflow sets, so the Temporal UI and `flinkops status` can find
 * operations by cluster, job and kind. They must be registered on the namespace once (the local stack does it;
 * on a real server run `flinkops setup search-attributes`).
 */
export const FLINK_CLUSTER = defineSearchAttributeKey('FlinkCluster', SearchAttributeType.KEYWORD);
export const FLINK_JOB = defineSearchAttributeKey('FlinkJob', SearchAttributeType.KEYWORD);
export const FLINKOPS_OPERATION = defineSearchAttributeKey('FlinkopsOperation', SearchAttributeType.KEYWORD);

export const FLINKOPS_SEARCH_ATTRIBUTES = [FLINK_CLUSTER, FLINK_JOB, FLINKOPS_OPERATION] as const;
