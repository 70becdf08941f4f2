import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { METRICS } from '../../workflows/model/metric-names';
import { defaultCacheDir, findRepoRoot } from '../stack/config';

// The alert rules and the Grafana dashboard the chart ships (deploy/helm/flinkops/files/), checked with promtool
// (built from the Go module proxy by scripts/setup.sh): the rules' own unit tests fire each alert and keep it silent
// where it must be; every dashboard query is valid PromQL over metrics the worker really exports.
const repoRoot = findRepoRoot();
const files = join(repoRoot, 'deploy', 'helm', 'flinkops', 'files');
const promtool = join(defaultCacheDir(), 'bin', 'promtool');

function run(args: string[], cwd: string): { status: number | null; output: string } {
  const result = spawnSync(promtool, args, { cwd, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

interface Panel {
  id: number;
  title: string;
  type: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets: { refId: string; expr: string }[];
}

const dashboard = JSON.parse(readFileSync(join(files, 'grafana-dashboard.json'), 'utf8')) as {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string }[] };
};

/** Grafana's variables and macros, as Prometheus would see them after Grafana substitutes them. */
function asPromQL(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval/g, '5m').replace(/\$__range/g, '1d').replace(/\$flink_cluster/g, '.*');
}

/** Metric names a PromQL expression reads. */
function metricNames(expr: string): string[] {
  // Label names (grouping clauses, matchers, template variables) are not metrics.
  const withoutLabels = expr.replace(/\b(?:by|on|without|ignoring|group_left|group_right)\s*\([^)]*\)/g, '').replace(/\b\w+\s*[=!]~?\s*"[^"]*"/g, '').replace(/\$labels\.\w+/g, '');
  return [...withoutLabels.matchAll(/\b((?:flinkops|temporal)_[a-z_]+)\b/g)].map((m) => m[1]!);
}

const exported = new Set(Object.values(METRICS).flatMap((name) => [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]));

beforeAll(() => {
  if (!existsSync(promtool)) throw new Error(`${promtool} is missing: run scripts/setup.sh`);
});

describe('alert rules', () => {
  test('are valid and pass their unit tests (each alert fires, and stays silent where it must)', () => {
    const check = run(['check', 'rules', 'flinkops.rules.yaml'], files);
    expect(check.output).toContain('SUCCESS: 6 rules found');
    const tested = run(['test', 'rules', 'flinkops.rules.test.yaml'], files);
    expect(tested.output).toContain('SUCCESS');
    expect(tested.status).toBe(0);
    const rules = readFileSync(join(files, 'flinkops.rules.yaml'), 'utf8');
    const tests = readFileSync(join(files, 'flinkops.rules.test.yaml'), 'utf8');
    for (const alert of rules.matchAll(/- alert: (\w+)/g)) {
      // Every alert has a test where it fires (expected alerts listed) and one where it is silent.
      expect({ alert: alert[1], fires: new RegExp(`alertname: ${alert[1]!}\\n\\s+exp_alerts:\\n\\s+- exp_labels`).test(tests) }).toEqual({ alert: alert[1], fires: true });
      expect({ alert: alert[1], silent: new RegExp(`alertname: ${alert[1]!}\\n\\s+exp_alerts: \\[\\]`).test(tests) }).toEqual({ alert: alert[1], silent: true });
    }
  });

  test('the tests catch a broken rule: without the "first event" clause a new counter series goes unnoticed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    const rules = readFileSync(join(files, 'flinkops.rules.yaml'), 'utf8');
    const broken = rules.replace(/\n\s+or \(flinkops_upgrades_total\{outcome="rolled-back"\} unless [^\n]+/, '');
    expect(broken).not.toEqual(rules);
    writeFileSync(join(dir, 'flinkops.rules.yaml'), broken);
    copyFileSync(join(files, 'flinkops.rules.test.yaml'), join(dir, 'flinkops.rules.test.yaml'));
    const tested = run(['test', 'rules', 'flinkops.rules.test.yaml'], dir);
    expect(tested.status).not.toBe(0);
    expect(tested.output).toContain('alertname: FlinkopsUpgradeRolledBack, time: 45m');
  });

  test('read only metrics the worker exports', () => {
    const rules = readFileSync(join(files, 'flinkops.rules.yaml'), 'utf8');
    const unknown = metricNames(rules).filter((name) => !exported.has(name));
    expect(unknown).toEqual([]);
  });
});

describe('Grafana dashboard', () => {
  test('is a dashboard Grafana can import: uid, title, schema version, panels on the 24-column grid without overlaps', () => {
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(dashboard.title).toBe('flinkops');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    const cells = new Map<string, string>();
    for (const panel of dashboard.panels) {
      expect(['timeseries', 'bargauge', 'table', 'stat', 'gauge']).toContain(panel.type);
      expect(panel.description?.length).toBeGreaterThan(20);
      const { x, y, w, h } = panel.gridPos;
      expect(x >= 0 && w > 0 && x + w <= 24 && y >= 0 && h > 0).toBe(true);
      for (let col = x; col < x + w; col++) {
        for (let row = y; row < y + h; row++) {
          const other = cells.get(`${col},${row}`);
          expect({ panel: panel.title, overlaps: other }).toEqual({ panel: panel.title, overlaps: undefined });
          cells.set(`${col},${row}`, panel.title);
        }
      }
      expect(panel.targets.length).toBeGreaterThan(0);
    }
    // The variables panels use are defined.
    const variables = new Set(dashboard.templating.list.map((v) => v.name));
    for (const used of JSON.stringify(dashboard.panels).matchAll(/\$\{?([a-z_]+)\}?/g)) if (!used[1]!.startsWith('__')) expect(variables).toContain(used[1]);
  });

  test('shows upgrades, downtime, savepoint age per job and remediation', () => {
    const queries = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const metric of [METRICS.upgrades, METRICS.upgradeDowntime, METRICS.lastSavepoint, METRICS.remediations]) expect(queries).toContain(metric);
    expect(queries).toMatch(/by \(flink_cluster, flink_job\)/);
  });

  test('every query is valid PromQL (promtool) over metrics the worker exports', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-'));
    const targets = dashboard.panels.flatMap((panel) => panel.targets.map((t) => ({ panel: panel.title, expr: asPromQL(t.expr) })));
    const rules = { groups: [{ name: 'dashboard', rules: targets.map((t, i) => ({ record: `dashboard:query_${i}`, expr: t.expr })) }] };
    writeFileSync(join(dir, 'dashboard.rules.yaml'), stringify(rules));
    const check = run(['check', 'rules', 'dashboard.rules.yaml'], dir);
    expect(check.output).toContain(`SUCCESS: ${targets.length} rules found`);
    // The check can fail: a broken query is reported.
    writeFileSync(join(dir, 'broken.rules.yaml'), stringify({ groups: [{ name: 'x', rules: [{ record: 'x:y', expr: 'sum by (a (b)' }] }] }));
    expect(run(['check', 'rules', 'broken.rules.yaml'], dir).status).not.toBe(0);
    const unknown = targets.flatMap((t) => metricNames(t.expr).filter((name) => !exported.has(name)).map((name) => `${t.panel}: ${name}`));
    expect(unknown).toEqual([]);
  });

  test('the README describes every panel', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Dashboard'));
    for (const panel of dashboard.panels) expect({ panel: panel.title, described: section.includes(`| ${panel.title} |`) }).toEqual({ panel: panel.title, described: true });
  });
});
