import { loadStackConfig, testProfile } from '../stack/config';
import { stackUp, startReaper } from '../stack/stack';

/** Starts the shared end-to-end stack (test profile, or FLINKOPS_TEST_PROFILE) once per Jest run; a reaper stops it if Jest dies. */
export default async function globalSetup(): Promise<void> {
  const config = loadStackConfig(testProfile());
  startReaper(config, process.pid);
  const started = Date.now();
  await stackUp(config);
  console.log(`\nlocal stack (${config.profile} profile) up in ${Date.now() - started} ms; logs in ${config.logDir}`);
}
