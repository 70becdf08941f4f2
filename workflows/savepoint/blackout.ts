/**
 * Recurring windows in which no savepoint is taken (business-critical hours, batch windows), written like
 * "Mon-Fri 09:00-18:00" or "Sat 22:00-02:00" (a window may cross midnight) in the schedule's time zone.
 */
export interface BlackoutWindow {
  /** ISO weekdays the window starts on: 1 = Monday ... 7 = Sunday. */
  days: number[];
  /** Minutes after midnight. */
  startMinute: number;
  endMinute: number;
  text: string;
}

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export function parseBlackoutWindow(text: string): BlackoutWindow {
  const match = /^\s*([A-Za-z]{3})(?:\s*-\s*([A-Za-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(text);
  if (!match) throw new Error(`blackout "${text}": expected DAY[-DAY] HH:MM-HH:MM, e.g. "Mon-Fri 09:00-18:00"`);
  const [, fromDay, toDay, h1, m1, h2, m2] = match as unknown as [string, string, string | undefined, string, string, string, string];
  const dayIndex = (name: string) => {
    const index = DAY_NAMES.indexOf(name.toLowerCase());
    if (index < 0) throw new Error(`blackout "${text}": unknown day "${name}" (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)`);
    return index + 1;
  };
  const first = dayIndex(fromDay);
  const last = toDay ? dayIndex(toDay) : first;
  const days: number[] = [];
  for (let day = first; ; day = (day % 7) + 1) {
    days.push(day);
    if (day === last) break;
  }
  const minute = (h: string, m: string) => {
    const hours = Number(h);
    const minutes = Number(m);
    if (hours > 24 || minutes > 59 || (hours === 24 && minutes > 0)) throw new Error(`blackout "${text}": ${h}:${m} is not a time of day`);
    return hours * 60 + minutes;
  };
  const startMinute = minute(h1, m1);
  const endMinute = minute(h2, m2);
  if (startMinute === endMinute) throw new Error(`blackout "${text}": the window is empty`);
  return { days, startMinute, endMinute, text: text.trim() };
}

/** The window containing `at` in `timeZone`, if any. */
export function activeBlackout(at: Date, windows: readonly BlackoutWindow[], timeZone: string): BlackoutWindow | undefined {
  const { weekday, minute } = localTime(at, timeZone);
  const previousDay = weekday === 1 ? 7 : weekday - 1;
  return windows.find((w) => {
    if (w.startMinute < w.endMinute) return w.days.includes(weekday) && minute >= w.startMinute && minute < w.endMinute;
    // Crossing midnight: the evening part on its own days, the morning part on the day after.
    return (w.days.includes(weekday) && minute >= w.startMinute) || (w.days.includes(previousDay) && minute < w.endMinute);
  });
}

export function localTime(at: Date, timeZone: string): { weekday: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const weekday = DAY_NAMES.indexOf(get('weekday').toLowerCase()) + 1;
  return { weekday, minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

/** Throws a clear error for a time zone name the runtime does not know. */
export function assertTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new Error(`time zone "${timeZone}" is unknown (use an IANA name such as UTC or Europe/Berlin)`);
  }
}
