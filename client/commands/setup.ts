import { Command } from 'commander';
import { FLINKOPS_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import type { CliContext } from '../context';

// temporal.api.enums.v1.IndexedValueType, by the SDK's SearchAttributeType names.
const INDEXED_VALUE_TYPES: Record<string, number> = { TEXT: 1, KEYWORD: 2, INT: 3, DOUBLE: 4, BOOL: 5, DATETIME: 6, KEYWORD_LIST: 7 };

/** `flinkops setup search-attributes`: registers flinkops' search attributes on the namespace (self-hosted Temporal). */
export function setupCommand(context: CliContext): Command {
  const setup = new Command('setup').description('one-time set-up of a Temporal namespace for flinkops');
  setup
    .command('search-attributes')
    .description('register the search attributes flinkops sets (FlinkCluster, FlinkJob, FlinkopsOperation); idempotent')
    .action(async () => {
      const { client, settings, print } = await context.connect();
      const operator = client.connection.operatorService;
      const existing = (await operator.listSearchAttributes({ namespace: settings.namespace })).customAttributes ?? {};
      const missing = FLINKOPS_SEARCH_ATTRIBUTES.filter((key) => !(key.name in existing));
      if (missing.length > 0) {
        await operator.addSearchAttributes({
          namespace: settings.namespace,
          searchAttributes: Object.fromEntries(missing.map((key) => [key.name, INDEXED_VALUE_TYPES[key.type]!])),
        });
      }
      print(
        missing.length > 0
          ? `registered ${missing.map((k) => k.name).join(', ')} on namespace ${settings.namespace}`
          : `search attributes already registered on namespace ${settings.namespace}`,
      );
    });
  return setup;
}
