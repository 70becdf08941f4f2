import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { findRepoRoot } from '../stack/config';

// The lint rules are what keeps workflow code deterministic. This lints small probe files placed in workflows/
// and activities/ with the project's own ESLint configuration and checks that each rule fires where it should.
const repo = findRepoRoot();
const probes: Record<string, { dir: 'workflows' | 'activities'; code: string }> = {
  nodeBuiltin: { dir: 'workflows', code: "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n" },
  kubernetesClient: { dir: 'workflows', code: "import * as k8s from '@kubernetes/client-node';\nexport const x = k8s;\n" },
  activityValueImport: { dir: 'workflows', code: "import { createActivities } from '../../activities';\nexport const x = createActivities;\n" },
  fetchGlobal: { dir: 'workflows', code: "export async function f(): Promise<unknown> {\n  return fetch('http://x');\n}\n" },
  activityTypeImport: { dir: 'workflows', code: "import type { Activities } from '../../activities';\nexport type A = Activities;\n" },
  builtinInActivity: { dir: 'activities', code: "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n" },
  floatingPromise: { dir: 'activities', code: 'async function work(): Promise<void> {}\nexport function run(): void {\n  work();\n}\n' },
};

let rulesByProbe: Record<string, string[]>;

beforeAll(() => {
  const files: Record<string, string> = {};
  try {
    for (const [name, probe] of Object.entries(probes)) {
      const dir = join(repo, probe.dir, '__lint_probe__');
      mkdirSync(dir, { recursive: true });
      files[name] = join(dir, `${name}.ts`);
      writeFileSync(files[name], probe.code);
    }
    let output: string;
    try {
      output = execFileSync(join(repo, 'node_modules', '.bin', 'eslint'), ['--format', 'json', ...Object.values(files)], { cwd: repo, encoding: 'utf8' });
    } catch (error) {
      output = (error as { stdout: string }).stdout; // eslint exits 1 when it finds problems
    }
    const results = JSON.parse(output) as { filePath: string; messages: { ruleId: string | null; message: string }[] }[];
    rulesByProbe = Object.fromEntries(
      Object.entries(files).map(([name, file]) => {
        const result = results.find((r) => relative(file, r.filePath) === '');
        return [name, (result?.messages ?? []).map((m) => m.ruleId ?? m.message)];
      }),
    );
  } finally {
    rmSync(join(repo, 'workflows', '__lint_probe__'), { recursive: true, force: true });
    rmSync(join(repo, 'activities', '__lint_probe__'), { recursive: true, force: true });
  }
}, 120_000);

test.each([
  ['nodeBuiltin', '@typescript-eslint/no-restricted-imports'],
  ['kubernetesClient', '@typescript-eslint/no-restricted-imports'],
  ['activityValueImport', '@typescript-eslint/no-restricted-imports'],
  ['fetchGlobal', 'no-restricted-globals'],
  ['floatingPromise', '@typescript-eslint/no-floating-promises'],
])('%s is reported as %s', (probe, rule) => {
  expect(rulesByProbe[probe]).toContain(rule);
});

test('type-only activity imports in workflows and Node built-ins in activities are allowed', () => {
  expect(rulesByProbe.activityTypeImport).toEqual([]);
  expect(rulesByProbe.builtinInActivity).toEqual([]);
});
