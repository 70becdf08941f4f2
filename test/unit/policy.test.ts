import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkJar, checkRestUrl, isForbiddenAddress, PolicyRefusal } from '../../activities/policy';
import { deleteLocalSavepoint } from '../../activities/savepoints';
import { canonicalLocation, checkLocation, effectiveSavepointPrefixes, isInsideAllowedPrefixes, isStrictlyInsideAllowedPrefixes, localPath, normalizeLocation } from '../../workflows/model/locations';

// Every input a CLI user hands the worker, against the worker's rules. Each case is one a hostile user tried.

describe('savepoint locations are normalised before they are compared', () => {
  test.each([
    ['/data/savepoints', 'file:///data/savepoints'],
    ['file:/data/savepoints/', 'file:///data/savepoints'],
    ['file:///data//savepoints/./x/..', 'file:///data/savepoints'],
    ['file://localhost/data/savepoints', 'file:///data/savepoints'],
    ['FILE:///data/%73avepoints', 'file:///data/savepoints'],
    ['s3://Bucket/flink//savepoints/', 's3://bucket/flink/savepoints'],
  ])('%s is %s', (raw, canonical) => {
    expect(normalizeLocation(raw)).toEqual({ ok: true, location: canonical });
  });

  test.each([
    ['file:///data/../../../etc', /climbs above the root/],
    ['file:///data/%252e%252e/etc', /percent-encoded more than once/],
    ['file:///data/%2fetc', /encoded separator/],
    ['file:///data/%zz', /invalid percent-encoding/],
    ['file://otherhost/data', /names the host "otherhost"/],
    ['file:///data?x=1', /query or fragment/],
    ['file:///data\nfile:///etc', /control characters/],
    ['relative/dir', /absolute path or a URI/],
    ['s3://user@bucket/x', /credentials/],
  ])('%j is refused', (raw, problem) => {
    const normalized = normalizeLocation(raw);
    expect(normalized.ok).toBe(false);
    if (!normalized.ok) expect(normalized.problem).toMatch(problem);
  });

  test('dot segments and encodings cannot leave an allowed prefix', () => {
    const allowed = ['file:///stack/savepoints'];
    for (const escape of ['file:///stack/savepoints/../../etc', 'file:///stack/savepoints/%2e%2e/%2e%2e/etc', 'file:///stack//savepoints/..//..//etc', 'file:///stack/savepoints-other', '/stack/savepoints/../x']) {
      expect(isInsideAllowedPrefixes(escape, allowed)).toBe(false);
      expect(checkLocation(escape, allowed).ok).toBe(false);
    }
    expect(isInsideAllowedPrefixes('file:/stack/savepoints/sp-1', allowed)).toBe(true);
    expect(checkLocation('/stack/savepoints/a/./b', allowed)).toEqual({ ok: true, location: 'file:///stack/savepoints/a/b' });
    expect(isInsideAllowedPrefixes('s3://bucket/a', ['s3://BUCKET'])).toBe(true);
    expect(isInsideAllowedPrefixes('s3://bucket2/a', ['s3://bucket'])).toBe(false);
  });

  test('a prefix itself may be written to, but only what is below it may be deleted', () => {
    expect(isInsideAllowedPrefixes('file:///sp', ['file:///sp/'])).toBe(true);
    expect(isStrictlyInsideAllowedPrefixes('file:///sp/', ['file:///sp'])).toBe(false);
    expect(isStrictlyInsideAllowedPrefixes('file:///sp/savepoint-1', ['file:///sp'])).toBe(true);
  });

  test("without configured prefixes, only the cluster's own directories are allowed; an empty list allows nothing", () => {
    expect(effectiveSavepointPrefixes([], { savepointDir: 'file:/data/sp', checkpointDir: 's3://b/ckpt' })).toEqual(['file:///data/sp', 's3://b/ckpt']);
    expect(effectiveSavepointPrefixes(['file:///x'], { savepointDir: 'file:/data/sp' })).toEqual(['file:///x']);
    expect(checkLocation('file:///anything', [])).toMatchObject({ ok: false, problem: expect.stringMatching(/no savepoint location is allowed/) as unknown });
    expect(localPath('file:///a/../b')).toBe('/b');
    expect(canonicalLocation('file:/a/b/')).toBe('file:///a/b');
  });
});

describe('--rest-url', () => {
  const resolveTo = (...addresses: string[]) => () => Promise.resolve(addresses);

  test('is off unless the worker allows URL prefixes', async () => {
    await expect(checkRestUrl('http://flink:8081', { allowedUrls: [] })).rejects.toThrow(/--rest-url: REST URL overrides are off on this worker/);
  });

  test.each([
    ['http://169.254.169.254/latest/meta-data', /link-local or metadata address/],
    ['http://[fe80::1]:8081', /link-local or metadata address/],
    ['http://metadata.google.internal', /link-local or metadata address/],
    ['http://user:pw@flink:8081', /must not carry credentials/],
    ['ftp://flink:8081', /must be an http\(s\) URL/],
    ['http://evil.example.com:8081', /is not allowed/],
    ['http://flink:9999', /is not allowed/],
  ])('%s is refused even with overrides on', async (url, problem) => {
    await expect(checkRestUrl(url, { allowedUrls: ['http://flink:8081', 'http://169.254.169.254', 'http://[fe80::1]:8081', 'http://metadata.google.internal'] }, resolveTo('10.0.0.5'))).rejects.toThrow(problem);
  });

  test('a name that resolves to a metadata address is refused; allowed ones pass, port wildcard included', async () => {
    await expect(checkRestUrl('http://flink:8081', { allowedUrls: ['http://flink:8081'] }, resolveTo('169.254.169.254'))).rejects.toThrow(/resolves to 169\.254\.169\.254/);
    await expect(checkRestUrl('http://flink:8081/', { allowedUrls: ['http://flink:8081'] }, resolveTo('10.0.0.5'))).resolves.toBe('http://flink:8081');
    await expect(checkRestUrl('http://127.0.0.1:34567', { allowedUrls: ['http://127.0.0.1:*'] })).resolves.toBe('http://127.0.0.1:34567');
    await expect(checkRestUrl('https://127.0.0.1:34567', { allowedUrls: ['http://127.0.0.1:*'] })).rejects.toThrow(/is not allowed/);
  });

  test('forbidden addresses', () => {
    expect(['169.254.169.254', '169.254.0.1', '::ffff:169.254.169.254', 'fd00:ec2::254', 'fe80::abcd', '100.100.100.200', '0.0.0.0'].every(isForbiddenAddress)).toBe(true);
    expect(['10.0.0.1', '127.0.0.1', '192.168.1.1', 'fd12::1'].some(isForbiddenAddress)).toBe(false);
  });
});

describe('jars', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flinkops-jars-'));
  const jars = join(dir, 'jars');
  mkdirSync(jars);
  const jar = join(jars, 'job.jar');
  writeFileSync(jar, Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(100)]));
  writeFileSync(join(jars, 'passwd.jar'), 'root:x:0:0:root:/root:/bin/bash\n');
  symlinkSync('/etc/passwd', join(jars, 'link.jar'));
  const policy = { allowedDirectories: [jars], maxSizeBytes: 1024 };

  test('a zip inside an allowed directory is read from its resolved path', async () => {
    await expect(checkJar(jar, policy)).resolves.toMatch(/jobs?\.jar$|job\.jar$/);
  });

  test.each([
    ['/etc/passwd', /outside the allowed jar directories/],
    ['__DIR__/link.jar', /\(\/etc\/passwd\) is outside the allowed jar directories/],
    ['__DIR__/passwd.jar', /is not a jar \(no zip header\)/],
    ['__DIR__/missing.jar', /not found or not readable/],
    ['relative.jar', /not an absolute path/],
  ])('%s is refused', async (path, problem) => {
    const refusal = (await checkJar(path.replace('__DIR__', jars), policy).catch((e: unknown) => e)) as PolicyRefusal;
    expect(refusal).toBeInstanceOf(PolicyRefusal);
    expect(refusal.field).toBe('--jar');
    expect(refusal.message).toMatch(problem);
  });

  test('no allowed directory, or a jar over the size limit, is refused', async () => {
    await expect(checkJar(jar, { allowedDirectories: [], maxSizeBytes: 1024 })).rejects.toThrow(/allows no jar directory/);
    await expect(checkJar(jar, { allowedDirectories: [jars], maxSizeBytes: 10 })).rejects.toThrow(/more than the limit of 10/);
  });
});

describe('local deletion of savepoints', () => {
  const root = mkdtempSync(join(tmpdir(), 'flinkops-sp-'));
  const allowed = join(root, 'savepoints');
  const savepoint = (name: string, metadata = true) => {
    const path = join(allowed, name);
    mkdirSync(path, { recursive: true });
    if (metadata) writeFileSync(join(path, '_metadata'), 'x');
    return path;
  };

  test('only a savepoint directory strictly inside a configured prefix is deleted', async () => {
    const ok = savepoint('savepoint-1');
    expect(await deleteLocalSavepoint(ok, [`file://${allowed}`])).toBeUndefined();
    const notSavepoint = savepoint('not-a-savepoint', false);
    expect(await deleteLocalSavepoint(notSavepoint, [`file://${allowed}`])).toMatch(/has no _metadata file, so it is not a savepoint: not deleted/);
    const outside = join(root, 'elsewhere');
    mkdirSync(outside);
    writeFileSync(join(outside, '_metadata'), 'x');
    expect(await deleteLocalSavepoint(outside, [`file://${allowed}`])).toMatch(/outside the allowed prefixes: not deleted/);
    symlinkSync(outside, join(allowed, 'sneaky'));
    expect(await deleteLocalSavepoint(join(allowed, 'sneaky'), [`file://${allowed}`])).toMatch(/resolves to .*elsewhere, outside the allowed prefixes/);
    expect(await deleteLocalSavepoint(allowed, [`file://${allowed}`])).toMatch(/outside the allowed prefixes/);
    expect(await deleteLocalSavepoint(ok, [])).toMatch(/local deletion is off/);
  });
});
