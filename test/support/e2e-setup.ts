// End-to-end tests wait on real JVMs, rollouts and savepoints.
jest.setTimeout(300_000);
