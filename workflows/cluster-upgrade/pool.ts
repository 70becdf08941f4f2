/**
 * Runs `work` over `items`, at most `limit` at a time, in order; no item starts once `keepStarting` says no. Plain
 * promises, so it is deterministic in workflow code. Returns each item's result (undefined: never started).
 */
export async function boundedAll<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>, keepStarting: () => boolean = () => true): Promise<(R | undefined)[]> {
  const results: (R | undefined)[] = new Array<R | undefined>(items.length).fill(undefined);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length && keepStarting()) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return results;
}
