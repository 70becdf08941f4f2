// Unit tests run in parallel and need nothing but Node. Workflow tests run workflows against stub activities, each
// file on its own time-skipping test server. End-to-end tests share one local stack (Temporal dev server, Kubernetes
// control plane, ZooKeeper) that globalSetup starts and globalTeardown stops; each file works in a namespace and on a
// task queue of its own, so files run in parallel (scripts/test.sh: FLINKOPS_E2E_WORKERS, default 4). Most of an
// end-to-end test's time is waiting on Flink, Kubernetes and Temporal, not CPU.
const swc = [
  '@swc/jest',
  { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' }, sourceMaps: 'inline' },
];
// @kubernetes/client-node 1.x and a few of its dependencies are ESM-only; swc turns them into CommonJS for Jest.
const esmOnly = ['@kubernetes/client-node', 'openid-client', 'jose', 'oauth4webapi'];

const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.stack/'],
};

module.exports = {
  reporters: ['default', '<rootDir>/test/support/slowest-tests-reporter.js'],
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    // Workflow tests with stub activities on Temporal's time-skipping test server (test/support/time-skipping.ts),
    // one server per file; no shared stack.
    { ...shared, displayName: 'workflow', testMatch: ['<rootDir>/test/workflow/**/*.test.ts'] },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/e2e-setup.ts'],
    },
  ],
};
