import { withFailureCause } from '../../activities/verify';

// A job that does not verify is reported with the cause Flink recorded (the restore error of an incompatible state),
// not only with "it restarted".
test('the newest exception of the job, as its root cause, is added to the reason', () => {
  const trace = [
    'java.lang.RuntimeException: Error while getting state',
    '\tat org.apache.flink.runtime.state.DefaultKeyedStateStore.getState(DefaultKeyedStateStore.java:88)',
    'Caused by: org.apache.flink.util.StateMigrationException: The new state serializer (PojoSerializer) must not be incompatible with the old state serializer (PojoSerializer).',
    '\t... 12 more',
  ].join('\n');
  const reason = withFailureCause('job a restarted 1 time(s) during the stability window', {
    exceptionHistory: { entries: [{ exceptionName: 'java.lang.RuntimeException', stacktrace: trace, timestamp: 2 }, { exceptionName: 'x', stacktrace: 'older', timestamp: 1 }] },
  });
  expect(reason).toBe(
    'job a restarted 1 time(s) during the stability window (Flink: org.apache.flink.util.StateMigrationException: The new state serializer (PojoSerializer) must not be incompatible with the old state serializer (PojoSerializer).)',
  );
});

test('no exception recorded: the reason as it was', () => {
  expect(withFailureCause('not verified within 1m', { exceptionHistory: { entries: [] } })).toBe('not verified within 1m');
  expect(withFailureCause('not verified within 1m', undefined)).toBe('not verified within 1m');
});
