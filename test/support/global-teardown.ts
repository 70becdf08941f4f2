import { loadStackConfig, testProfile } from '../stack/config';
import { stackDown } from '../stack/stack';

export default async function globalTeardown(): Promise<void> {
  await stackDown(loadStackConfig(testProfile()));
}
