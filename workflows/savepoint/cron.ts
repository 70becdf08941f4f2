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
