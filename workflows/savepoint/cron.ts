/**
 * Validation of the 5-field cron expressions schedules accept (minute hour day-of-month month day-of-week), so a
 * malformed one is refused with the field named before anything is created.
 */
const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

export function validateCron(expression: string): void {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) throw new Error(`cron "${expression}": expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`);
  fields.forEach((field, i) => {
    const spec = FIELDS[i]!;
    for (const part of field.split(',')) {
      const [range, step] = part.split('/');
      if (step !== undefined && !/^\d+$/.test(step)) throw new Error(`cron "${expression}": ${spec.name} step "${step}" is not a number`);
      if (range === '*') continue;
      const bounds = (range ?? '').split('-');
      if (bounds.length > 2) throw new Error(`cron "${expression}": ${spec.name} "${part}" is not a value or range`);
      for (const bound of bounds) {
        const value = /^\d+$/.test(bound) ? Number(bound) : spec.names?.indexOf(bound.toLowerCase()) ?? -1;
        const numeric = spec.names && !/^\d+$/.test(bound) ? value + spec.min : value;
        if (value < 0 || numeric < spec.min || numeric > spec.max) {
          throw new Error(`cron "${expression}": ${spec.name} "${bound}" is out of range ${spec.min}-${spec.max}`);
        }
      }
    }
  });
}

/** The values a valid field allows (names as numbers, day-of-week 7 as 0). */
function fieldValues(field: string, index: number): Set<number> {
  const spec = FIELDS[index]!;
  const values = new Set<number>();
  const valueOf = (bound: string) => (/^\d+$/.test(bound) ? Number(bound) : spec.names!.indexOf(bound.toLowerCase()) + spec.min);
  for (const part of field.split(',')) {
    const [range, step] = part.split('/');
    const [from, to] = range === '*' ? [spec.min, spec.max] : ((b) => [valueOf(b[0]!), valueOf(b[1] ?? (step ? String(spec.max) : b[0]!))])(range!.split('-'));
    for (let v = from; v <= to; v += Number(step ?? 1)) values.add(index === 4 && v === 7 ? 0 : v);
  }
  return values;
}

/**
 * The longest time between two consecutive runs of a valid cron expression (minute resolution, over eight weeks of a
 * calendar in UTC; daylight-saving shifts are not counted). What a savepoint-age alert must allow at least.
 */
export function cronLongestGapMs(expression: string): number {
  validateCron(expression);
  const fields = expression.trim().split(/\s+/);
  const [minutes, hours, days, months, weekdays] = fields.map(fieldValues) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  // As cron does: when both day fields are restricted, a day matches either.
  const dayRestricted = fields[2] !== '*';
  const weekdayRestricted = fields[4] !== '*';
  const start = Date.UTC(2025, 0, 1);
  let previous: number | undefined;
  let longest = 0;
  for (let t = start; t < start + 56 * 86_400_000; t += 60_000) {
    const d = new Date(t);
    if (!minutes.has(d.getUTCMinutes()) || !hours.has(d.getUTCHours()) || !months.has(d.getUTCMonth() + 1)) continue;
    const dayOk = days.has(d.getUTCDate());
    const weekdayOk = weekdays.has(d.getUTCDay());
    if (!(dayRestricted && weekdayRestricted ? dayOk || weekdayOk : dayOk && weekdayOk)) continue;
    if (previous !== undefined) longest = Math.max(longest, t - previous);
    previous = t;
  }
  // Runs rarer than the window (a yearly cron): at least the window itself.
  return longest === 0 ? 56 * 86_400_000 : longest;
}
