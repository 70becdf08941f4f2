import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { parseDuration } from '../../workflows/model/durations';
import { defaultCacheDir, findRepoRoot } from '../stack/config';

// No Docker engine here: docker-compose.yml is loaded by compose-go (what Docker Compose itself uses; built by
// scripts/setup.sh), the Dockerfile is linted by dockerfile-utils and checked for what the worker image needs.
const repoRoot = findRepoRoot();
const composeCheck = join(defaultCacheDir(), 'bin', 'compose-check');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: { type: string; source: string; target: string; read_only?: boolean }[];
  stop_grace_period?: string;
  read_only?: boolean;
  entrypoint?: string[];
  command?: string[];
}

function loadCompose(file: string): { services: Record<string, ComposeService> } {
  const result = spawnSync(composeCheck, [file], { encoding: 'utf8', env: { ...process.env, KUBECONFIG_FILE: '/tmp/kubeconfig' } });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as { services: Record<string, ComposeService> };
}

describe('docker-compose.yml', () => {
  beforeAll(() => {
    if (!existsSync(composeCheck)) throw new Error(`${composeCheck} is missing: run scripts/setup.sh`);
  });

  test('the checker rejects what Compose would reject', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-'));
    writeFileSync(join(dir, 'docker-compose.yml'), 'services:\n  a:\n    image: x\n    restart_policy: always\n');
    expect(() => loadCompose(join(dir, 'docker-compose.yml'))).toThrow(/restart_policy/);
  });

  test('is a valid Compose project: PostgreSQL, Temporal on it, the Web UI and the worker built from the Dockerfile', () => {
    const { services } = loadCompose(join(repoRoot, 'docker-compose.yml'));
    expect(Object.keys(services).sort()).toEqual(['flinkops-setup', 'postgresql', 'temporal', 'temporal-ui', 'worker']);
    expect(services.postgresql!.image).toMatch(/^postgres:/);
    expect(services.temporal!.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(services.temporal!.depends_on).toMatchObject({ postgresql: { condition: 'service_healthy' } });
    expect(services['temporal-ui']!.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233' });

    const worker = services.worker!;
    expect(worker.build).toEqual({ context: repoRoot, dockerfile: 'Dockerfile' });
    expect(worker.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', FLINKOPS_TASK_QUEUE: 'flinkops' });
    // The kubeconfig the user points KUBECONFIG_FILE at is where the worker looks for it.
    expect(worker.volumes).toContainEqual({ type: 'bind', source: '/tmp/kubeconfig', target: worker.environment!.KUBECONFIG, read_only: true });
    // A jar directory and a savepoint directory, and the worker allowed to use exactly those (the first upgrade a user
    // tries through Compose needs the jar on the worker).
    expect(worker.volumes).toContainEqual(expect.objectContaining({ type: 'bind', source: join(repoRoot, 'jars'), target: worker.environment!.FLINKOPS_ALLOWED_JAR_DIRS, read_only: true }));
    const savepoints = worker.volumes!.find((v) => `file://${v.target}` === worker.environment!.FLINKOPS_ALLOWED_SAVEPOINT_PREFIXES);
    expect(savepoints).toMatchObject({ type: 'bind', source: join(repoRoot, 'savepoints') });
    expect(savepoints!.read_only).toBeFalsy();
    expect(worker.read_only).toBe(true);
    expect(parseDuration(worker.stop_grace_period!)).toBeGreaterThan(parseDuration(worker.environment!.FLINKOPS_SHUTDOWN_GRACE_TIME!));
    expect(worker.depends_on).toMatchObject({ 'flinkops-setup': { condition: 'service_completed_successfully' } });
    expect(services['flinkops-setup']!.command).toEqual(['setup', 'search-attributes']);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'))
    .map((l) => l.trim());
  const finalStage = instructions.slice(instructions.map((l) => l.startsWith('FROM ')).lastIndexOf(true));

  test('passes the linter', () => {
    expect(validate(dockerfile).map((d) => `line ${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`)).toEqual([]);
    expect(validate('FROM node\nEXPOSE abc\n').length).toBeGreaterThan(0);
  });

  test('the image runs the pre-built worker as a numeric non-root user with production dependencies only', () => {
    const user = finalStage.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toMatch(/^USER [1-9]\d*(:\d+)?$/);
    expect(finalStage.some((l) => /^RUN npm (ci|install) .*--omit=dev/.test(l))).toBe(true);
    expect(finalStage).toContain('COPY --from=build /app/dist/workflow-bundle.js ./dist/workflow-bundle.js');
    expect(finalStage.at(-1)).toBe('ENTRYPOINT ["node", "dist/worker/main.js"]');
    expect(existsSync(join(repoRoot, 'dist', 'worker', 'main.js'))).toBe(true);
  });

  test('copies every source folder the product build compiles, and nothing that does not exist', () => {
    const product = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.product.json'), 'utf8')) as { include: string[] };
    const copied = instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    for (const source of copied) expect(existsSync(join(repoRoot, source))).toBe(true);
    for (const folder of product.include) expect(copied).toContain(folder);
    const finalCopies = finalStage.filter((l) => l.startsWith('COPY --from=build')).map((l) => l.split(/\s+/)[2]!.replace('/app/dist/', ''));
    for (const folder of product.include) expect(finalCopies).toContain(folder);
  });

  test('the product code imports only production dependencies (dev dependencies are not in the image)', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const product = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.product.json'), 'utf8')) as { include: string[] };
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    const offending: string[] = [];
    const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : n.endsWith('.js') ? [join(dir, n)] : []));
    for (const file of product.include.flatMap((folder) => walk(join(repoRoot, 'dist', folder)))) {
      for (const match of readFileSync(file, 'utf8').matchAll(/require\("([^".][^"]*)"\)/g)) {
        const specifier = match[1]!;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
        if (!builtins.has(specifier) && !(name in pkg.dependencies)) offending.push(`${file}: ${specifier}`);
      }
    }
    expect(offending).toEqual([]);
  });
});

test('the compose checker is the one built from test/tools/compose-check', () => {
  expect(execFileSync('readlink', ['-f', composeCheck], { encoding: 'utf8' })).toMatch(/compose-check-[0-9a-f]{12}/);
});
