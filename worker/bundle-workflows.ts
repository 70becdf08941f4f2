import { writeFileSync } from 'node:fs';
import { bundleWorkflows, WORKFLOW_BUNDLE_PATH } from './workflow-source';

/** Bundles the workflow code once at build time, so workers start fast and run exactly what was tested. */
async function main(): Promise<void> {
  const { code } = await bundleWorkflows();
  writeFileSync(WORKFLOW_BUNDLE_PATH, code);
  console.log(`workflow bundle written to ${WORKFLOW_BUNDLE_PATH} (${Math.round(code.length / 1024)} KiB)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
