import type { Command } from 'commander';

/** Examples shown at the end of each command's --help (test/unit/cli.test.ts requires one for every command). */
export const EXAMPLES: Record<string, string[]> = {
  flinkops: ['flinkops status flink/orders --job orders', 'flinkops upgrade flink/orders --job orders --jar /jars/orders-2.jar', 'flinkops completion bash > /etc/bash_completion.d/flinkops'],
  version: ['flinkops version', 'flinkops version -o json'],
  completion: ['flinkops completion bash > ~/.local/share/bash-completion/completions/flinkops', "echo 'source <(flinkops completion zsh)' >> ~/.zshrc"],
  'cluster-info': ['flinkops cluster-info --rest-url http://flink-jobmanager.flink:8081'],
  upgrade: [
    'flinkops upgrade flink/flink --job counter --jar /jars/counter-2.jar',
    'flinkops upgrade flink/orders-jobmanager --image registry.example.com/orders:2.4.0 --require-approval',
    'flinkops upgrade -n flink flink --job counter --jar /jars/counter-2.jar --dry-run -o yaml',
  ],
  'upgrade-cluster': [
    'flinkops upgrade-cluster flink/flink --image flink:2.2.1 --dry-run',
    'flinkops upgrade-cluster flink/flink --image flink:2.2.1 --jobs jobs-2.x.yaml --allow-drop scratch-job --require-approval',
    'flinkops upgrade-cluster flink/flink --set taskmanager.numberOfTaskSlots=8 --on-failure keep-going',
  ],
  status: ['flinkops status flink/flink --job counter', 'flinkops status flink/flink -o json'],
  approve: ['flinkops approve flink/flink --job counter --by alice', 'flinkops approve flink/flink --cluster-upgrade --by alice'],
  abort: ['flinkops abort flink/flink --job counter --by alice --reason "wrong jar"'],
  cancel: ['flinkops cancel flink/flink --job counter'],
  savepoint: ['flinkops savepoint flink/flink --job counter --keep 7', 'flinkops savepoint flink/flink --job counter -o json'],
  schedule: ['flinkops schedule create flink/flink --job counter --time-zone Europe/Berlin --keep 7', 'flinkops schedule list -o wide'],
  'schedule create': [
    'flinkops schedule create flink/flink --job counter --time-zone Europe/Berlin --keep 7 --max-age 14d',
    'flinkops schedule create flink/flink --job counter --every 6h --blackout "Mon-Fri 08:00-18:00"',
    'flinkops schedule create --fleet payments --selector team=payments --all-namespaces --concurrency 4 --keep 7',
  ],
  'schedule list': ['flinkops schedule list', 'flinkops schedule list -o yaml'],
  'schedule describe': ['flinkops schedule describe flink/flink --job counter', 'flinkops schedule describe --fleet payments -o json'],
  'schedule pause': ['flinkops schedule pause flink/flink --job counter --note "storage migration"'],
  'schedule resume': ['flinkops schedule resume flink/flink --job counter'],
  'schedule delete': ['flinkops schedule delete flink/flink --job counter'],
  'schedule trigger': ['flinkops schedule trigger flink/flink --job counter'],
  doctor: ['flinkops doctor flink/flink', 'flinkops doctor flink/flink -o json'],
  remediate: ['flinkops remediate flink/flink --dry-run', 'flinkops remediate flink/flink --max-per-hour 2'],
  watch: ['flinkops watch enable flink/flink --every 1m', 'flinkops watch list'],
  'watch enable': ['flinkops watch enable flink/flink --every 1m --ha-recovery-timeout 3m'],
  'watch disable': ['flinkops watch disable flink/flink'],
  'watch list': ['flinkops watch list -o wide'],
  register: ['flinkops register flink/flink --job orders --jar /jars/orders.jar --entry-class com.example.Orders', 'flinkops register flink/flink --job orders --forget'],
  setup: ['flinkops setup search-attributes'],
  'setup search-attributes': ['flinkops setup search-attributes --temporal-namespace payments'],
};

/** The command's path without the program name: "schedule create". */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.length === 1 ? names[0]! : names.slice(1).join(' ');
}

export function addExamples(command: Command): void {
  const examples = EXAMPLES[commandPath(command)];
  if (examples) command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
}
