import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A secret value (API key, private key, header value) read once at start-up. It cannot leak by accident:
 * JSON.stringify, util.inspect, template strings and console.log all show "[redacted]"; only `reveal()` gives
 * the value, at the one place that hands it to a client library.
 */
export class Secret {
  readonly #value: string;

  constructor(
    value: string,
    /** Where it came from ("file /run/secrets/x", "env TEMPORAL_API_KEY"), for start-up logs. */
    readonly source: string,
  ) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${this.source})`;
  }
}

/** Replaces every known secret value in a text; the last line of defence for log output. */
export function redactor(secrets: Secret[]): (text: string) => string {
  // Very short values would redact ordinary words; no real credential is that short.
  // "Bearer <token>": the token alone must not show either.
  const candidates = secrets.flatMap((s) => [s.reveal(), s.reveal().split(/\s+/).pop() ?? '']);
  const values = [...new Set(candidates.filter((v) => v.length >= 6))].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (text) => text;
  return (text) => values.reduce((out, value) => out.split(value).join(REDACTED), text);
}
