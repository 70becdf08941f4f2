import type { Client } from '@temporalio/client';
import type { ConfigFile } from '../config/schema';
import type { TemporalSettings } from '../config/temporal';

/** What a command needs from the CLI around it: a Temporal client, somewhere to print, the configured defaults. */
export interface CliContext {
  /**
   * A Temporal client; with `worker: true` (commands that run a workflow) it first makes sure a flinkops worker polls
   * the task queue, so nothing is started that nobody will run.
   */
  connect(options?: { worker?: boolean }): Promise<{ client: Client; settings: TemporalSettings & { webUi?: string }; print: (line: string) => void }>;
  /** What the configuration (file and environment) says the CLI puts into requests when a flag is not given. */
  defaults(): ConfigFile['defaults'];
}
