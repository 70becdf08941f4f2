// Prints the slowest tests and test files at the end of a run, so the suite's time has names attached (issue 17:
// keep the README's test command fast). Plain JavaScript: Jest loads reporters without transforming them.
class SlowestTestsReporter {
  constructor(_globalConfig, options = {}) {
    this.count = options.count ?? 15;
    this.files = [];
    this.tests = [];
  }

  onTestResult(test, result) {
    const file = test.path.replace(`${process.cwd()}/`, '');
    this.files.push({ file, ms: result.perfStats.end - result.perfStats.start });
    for (const t of result.testResults) this.tests.push({ name: `${file} › ${t.fullName}`, ms: t.duration ?? 0, status: t.status });
  }

  onRunComplete() {
    const seconds = (ms) => `${(ms / 1000).toFixed(1).padStart(7)} s`;
    const print = (title, rows) => {
      if (rows.length === 0) return;
      process.stderr.write(`\n${title}\n`);
      for (const row of rows) process.stderr.write(`${seconds(row.ms)}  ${row.name ?? row.file}${row.status && row.status !== 'passed' ? ` (${row.status})` : ''}\n`);
    };
    print(`slowest test files (${this.files.length}):`, [...this.files].sort((a, b) => b.ms - a.ms).slice(0, this.count));
    print(`slowest tests (${this.tests.length}):`, [...this.tests].sort((a, b) => b.ms - a.ms).slice(0, this.count));
  }
}

module.exports = SlowestTestsReporter;
