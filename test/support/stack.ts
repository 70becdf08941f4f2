import { openStack, type TestStack } from '../stack/handle';

/** The stack globalSetup started, as seen from a test file. */
export function testStack(): TestStack {
  return openStack('test');
}

export type { TestStack };
