import type { Client } from '@temporalio/client';
import type { TemporalSettings } from '../config/temporal';

/** What a command needs from the CLI around it: a Temporal client and somewhere to print. */
export interface CliContext {
  connect(): Promise<{ client: Client; settings: TemporalSettings & { webUi?: string }; print: (line: string) => void }>;
}
