import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';
import { httpGet } from '../helpers/scrape.js';
import { cleanupAfter } from '../helpers/wait.js';

const DASHBOARD = fileURLToPath(new URL('../../../docs/grafana-dashboard.json', import.meta.url));
const METRICS_DOC = fileURLToPath(new URL('../../../docs/metrics.md', import.meta.url));
const SERIES = /\b(?:gamewire|nodejs|process)_[a-z0-9_]+\b/g;

interface Dashboard {
  readonly panels: readonly { readonly title: string; readonly targets: readonly { readonly expr: string }[] }[];
  readonly templating: { readonly list: readonly { readonly definition?: string }[] };
}

/** Every sample name a scrape can show: each `# TYPE` name, with `_bucket/_sum/_count` for histograms and summaries. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram' || type === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

describe('docs/grafana-dashboard.json', () => {
  it('refers only to series a real server exposes, and docs/metrics.md describes every gamewire series', async (t) => {
    const cleanup = cleanupAfter(t);
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
    const cli = runCli(cleanup, ['chat-server', '--port', '0', '--metrics-port', '0']);
    const line = await cli.waitForLine(/metrics on 127\.0\.0\.1:\d+/, 10_000);
    const metricsPort = Number(/metrics on 127\.0\.0\.1:(\d+)/.exec(line)?.[1]);
    const exposed = exposedNames((await httpGet(metricsPort, '/metrics')).body);

    const used = new Set<string>();
    const queries = [
      ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ where: panel.title, expr: target.expr }))),
      ...dashboard.templating.list.flatMap((v) => (v.definition === undefined ? [] : [{ where: 'templating', expr: v.definition }])),
    ];
    for (const { where, expr } of queries) {
      const names = expr.match(SERIES) ?? [];
      assert.ok(names.length > 0, `${where}: ${expr} names no series`);
      for (const name of names) {
        assert.ok(exposed.has(name), `${where}: ${name} is not exposed by the server`);
        used.add(name);
      }
    }
    for (const shown of ['gamewire_sessions', 'gamewire_sessions_refused_total', 'gamewire_disconnects_total', 'gamewire_packets_sent_total', 'gamewire_send_queue_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
      assert.ok(used.has(shown), `the dashboard shows ${shown}`);
    }

    const doc = readFileSync(METRICS_DOC, 'utf8');
    for (const name of exposed) {
      if (!name.startsWith('gamewire_') || /_(bucket|sum|count)$/.test(name)) continue;
      assert.ok(doc.includes(`\`${name}\``), `docs/metrics.md describes ${name}`);
    }
  });
});
