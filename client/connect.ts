import { Client, Connection } from '@temporalio/client';
import { temporalConnectionOptions, type TemporalSettings } from '../config/temporal';
import { CliError, EXIT } from './exit-codes';

/** A Temporal client for the CLI (TLS and API key as configured); close the returned connection when done. */
export async function connectClient(settings: TemporalSettings): Promise<{ client: Client; close: () => Promise<void> }> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(settings), connectTimeout: 5_000 });
  } catch (error) {
    throw new CliError(
      `cannot reach Temporal at ${settings.address} (namespace ${settings.namespace}): ${(error as Error).message.split('\n')[0]}`,
      EXIT.unavailable,
      'check --address / TEMPORAL_ADDRESS, TLS (TEMPORAL_TLS, CA) and the API key',
    );
  }
  const client = new Client({ connection, namespace: settings.namespace });
  return { client, close: () => connection.close() };
}
