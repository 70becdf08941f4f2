import { testProfile } from '../stack/config';
import { openStack, type TestStack } from '../stack/handle';

/** The stack globalSetup started, as seen from a test file. */
export function testStack(): TestStack {
  return openStack(testProfile());
}

export type { TestStack };
