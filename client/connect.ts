import { Client, Connection } from '@temporalio/client';
import type { TemporalSettings } from '../config/temporal';

/** A Temporal client for the CLI; close the returned connection when done. */
export async function connectClient(settings: TemporalSettings): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address: settings.address, connectTimeout: 5_000 });
  const client = new Client({ connection, namespace: settings.namespace });
  return { client, close: () => connection.close() };
}
