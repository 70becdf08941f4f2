import { Client, Connection } from '@temporalio/client';
import { temporalConnectionOptions, type TemporalSettings } from '../config/temporal';

/** A Temporal client for the CLI (TLS and API key as configured); close the returned connection when done. */
export async function connectClient(settings: TemporalSettings): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ ...temporalConnectionOptions(settings), connectTimeout: 5_000 });
  const client = new Client({ connection, namespace: settings.namespace });
  return { client, close: () => connection.close() };
}
