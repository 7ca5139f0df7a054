/**
 * The package as a user gets it: `npm pack`, installed into a fresh project of its own, used only
 * through its entry points (`gamewire`, `gamewire/loadtest`, ...) and the `gamewire` bin. One
 * install for all subtests.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadedPackagesScript, parseLoadedPackages } from '../helpers/loaded-packages.js';
import { REPO_ROOT } from '../helpers/protos.js';
import { ConsumerProject } from './consumer-project.js';

const INSTALL_TIMEOUT_MS = 180_000;
const STEP_TIMEOUT_MS = 60_000;
const LISTENING = /arena listening on 127\.0\.0\.1:(\d+)/;

let project: ConsumerProject | undefined;
let compiled: Promise<void> | undefined;

function installed(): ConsumerProject {
  assert.ok(project, 'the project was not installed (see the before hook)');
  return project;
}

/** `gamewire gen-packets` from the project's own proto, then the project's own tsc; once per run. */
function compileProject(): Promise<void> {
  compiled ??= (async () => {
    const p = installed();
    const gen = await p.run('npx', ['gamewire', 'gen-packets', 'proto', '--out', join('src', 'generated')], STEP_TIMEOUT_MS);
    assert.equal(gen.code, 0, `${gen.stdout}\n${gen.stderr}`);
    assert.match(gen.stdout, /gen-packets: 4 packets from arena\.proto -> src[/\\]generated[/\\]packets\.ts/);
    const tsc = await p.run(process.execPath, [join(p.dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], STEP_TIMEOUT_MS);
    assert.equal(tsc.code, 0, `the project's tsc failed:\n${tsc.stdout}\n${tsc.stderr}`);
  })();
  return compiled;
}

/** Relative link targets (no URL, no bare #anchor) of a markdown file, without their #anchor. */
function relativeLinks(markdown: string): string[] {
  const targets = [...markdown.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '');
  return targets.filter((t) => !/^[a-z]+:/i.test(t) && !t.startsWith('#')).map((t) => t.split('#')[0] ?? t);
}

describe('the packed package installed into a fresh project', { timeout: INSTALL_TIMEOUT_MS + 4 * STEP_TIMEOUT_MS }, () => {
  before(async () => {
    project = await ConsumerProject.create(INSTALL_TIMEOUT_MS);
  }, { timeout: INSTALL_TIMEOUT_MS + 10_000 });

  after(async () => {
    await project?.dispose();
  });

  it('runs nothing at install time; every link of its markdown files resolves inside it, benchmark results in the repository', () => {
    const p = installed();
    const packageJson = JSON.parse(readFileSync(join(p.installed, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) {
      assert.equal(packageJson.scripts?.[hook], undefined, `the published package.json has a '${hook}' script`);
    }
    const pages = readdirSync(p.installed, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.md'));
    assert.ok(pages.includes('README.md') && pages.includes(join('docs', 'protocol.md')), pages.join(', '));
    // Benchmark reports are not shipped (bench/results/ is measurement data, not the product): a link
    // to one must resolve in the repository the package was packed from.
    const missing: string[] = [];
    let resultLinks = 0;
    for (const page of pages) {
      for (const target of relativeLinks(readFileSync(join(p.installed, page), 'utf8'))) {
        const path = join(dirname(page), target);
        if (path.startsWith(join('bench', 'results'))) {
          resultLinks++;
          if (existsSync(join(p.installed, path)) || !existsSync(join(REPO_ROOT, path))) missing.push(`${page} -> ${target} (a result)`);
        } else if (!existsSync(join(p.installed, path))) {
          missing.push(`${page} -> ${target}`);
        }
      }
    }
    assert.deepEqual(missing, [], 'links to files not in the package, or results shipped or missing from the repository');
    assert.ok(resultLinks > 0, 'the performance pages link their reports');
  });

  it("imports ServerService, PacketSession, Room from 'gamewire' and the harness from 'gamewire/loadtest'", async () => {
    const script = [
      "import { ServerService, PacketSession, Room } from 'gamewire';",
      "import { defineBot, runLoadTest, BUILT_IN_BOTS } from 'gamewire/loadtest';",
      'console.log([ServerService, PacketSession, Room, defineBot, runLoadTest].map((f) => typeof f).join(","), Object.keys(BUILT_IN_BOTS).join(","));',
    ].join('\n');
    const result = await installed().run(process.execPath, ['--input-type=module', '-e', script], STEP_TIMEOUT_MS);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'function,function,function,function,function echo,chat');
  });

  it('the other entry points import: gamewire/protocol, gamewire/client, gamewire/samples, gamewire/internals', async () => {
    const script = [
      "import { defineMessage } from 'gamewire/protocol';",
      "import { GameClient } from 'gamewire/client';",
      "import { ChatSession, protocol } from 'gamewire/samples';",
      "import { PacketScanner } from 'gamewire/internals';",
      'console.log([defineMessage, GameClient, ChatSession, PacketScanner].map((f) => typeof f).join(","), protocol.C_CHAT.id);',
    ].join('\n');
    const result = await installed().run(process.execPath, ['--input-type=module', '-e', script], STEP_TIMEOUT_MS);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'function,function,function,function 1004');
  });

  it("import('gamewire') loads neither ioredis nor ws; 'gamewire/cluster' is what loads ioredis", async () => {
    const body = "await import('gamewire'); loaded('root'); await import('gamewire/cluster');";
    const result = await installed().run(process.execPath, ['--input-type=module', '-e', loadedPackagesScript(body)], STEP_TIMEOUT_MS);
    assert.equal(result.code, 0, result.stderr);
    const root = parseLoadedPackages(result.stdout, 'root');
    assert.ok(root.includes('protobufjs'), `the listing sees the packages the root does load: ${root.join(', ')}`);
    assert.equal(root.includes('ioredis'), false, root.join(', '));
    assert.equal(root.includes('ws'), false, root.join(', '));
    assert.ok(parseLoadedPackages(result.stdout).includes('ioredis'));
  });

  it('every entry of the exports map imports in Node (a new entry is covered without a change here)', async () => {
    const p = installed();
    const { exports } = JSON.parse(readFileSync(join(p.installed, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const specifiers = Object.keys(exports).filter((key) => key !== './package.json').map((key) => `gamewire${key.slice(1)}`);
    const script = `for (const s of ${JSON.stringify(specifiers)}) console.log(s, Object.keys(await import(s)).length > 0);`;
    const result = await p.run(process.execPath, ['--input-type=module', '-e', script], STEP_TIMEOUT_MS);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.split('\n'), specifiers.map((s) => `${s} true`));
  });

  it('a CommonJS file loads it with import(); require() fails with ERR_PACKAGE_PATH_NOT_EXPORTED (ESM only)', async () => {
    const result = await installed().run(process.execPath, ['cjs-user.cjs'], STEP_TIMEOUT_MS);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'function function function ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('npx gamewire --help lists the commands', async () => {
    const result = await installed().run('npx', ['gamewire', '--help'], STEP_TIMEOUT_MS);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^gamewire <command> \[options\]/);
    assert.match(result.stdout, /^\s+gen-packets\s/m);
    assert.match(result.stdout, /^\s+loadtest\s/m);
  });

  it("gen-packets writes packets.ts from the project's proto; the project's strict tsc compiles it with the project's code", async () => {
    await compileProject();
    const generated = readFileSync(join(installed().dir, 'src', 'generated', 'packets.ts'), 'utf8');
    assert.match(generated, /from 'gamewire\/protocol';/);
    assert.match(generated, /export const S_SAID = defineMessage<S_SAID, 'S_SAID'>\(schema, 'arena\.S_SAID', 103, 'S_SAID'\);/);
  });

  it('a server with a Room and ClientService bots, built only from the installed package, exchange typed messages', async () => {
    await compileProject();
    const result = await installed().run(process.execPath, [join('build', 'exchange.js')], STEP_TIMEOUT_MS);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const [json, closed] = result.stdout.split('\n');
    const seen = JSON.parse(json ?? '') as { sAidId: number; members: number[]; names: string[]; heard: string[][] };
    assert.equal(seen.sAidId, 103);
    assert.deepEqual([...seen.names].sort(), ['bot-0', 'bot-1', 'bot-2']);
    assert.equal(Math.max(...seen.members), 3, 'the last to join sees every member');
    const lines = ['hello from bot-0', 'hello from bot-1', 'hello from bot-2'];
    for (const heard of seen.heard) assert.deepEqual(heard.map((h) => h.replace(/^\d+:/, '')).sort(), lines);
    assert.equal(closed, 'closed: SERVICE_CLOSING,SERVICE_CLOSING,SERVICE_CLOSING');
  });

  it("gamewire loadtest --bot ./bot.js runs the project's own bot against the project's server for 2 s, with JSON and HTML reports", async () => {
    await compileProject();
    const p = installed();
    const server = p.start(process.execPath, [join('build', 'serve.js')]);
    const port = Number(LISTENING.exec(await server.waitForLine(LISTENING, STEP_TIMEOUT_MS))?.[1]);
    const args = ['gamewire', 'loadtest', '--bot', './bot.js', '--port', String(port), '--sessions', '4', '--workers', '2',
      '--duration-s', '2', '--interval-ms', '50', '--json', 'run.json', '--report', 'run.html'];
    const run = await p.run('npx', args, STEP_TIMEOUT_MS);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /result\s+PASS \(0 errors\)/);
    const report = JSON.parse(readFileSync(join(p.dir, 'run.json'), 'utf8')) as {
      passed: boolean;
      totals: { roundTrips: number; unexpectedDisconnects: number; counters: Record<string, number> };
    };
    assert.equal(report.passed, true);
    assert.equal(report.totals.unexpectedDisconnects, 0);
    assert.ok((report.totals.counters['said'] ?? 0) > 4, JSON.stringify(report.totals));
    assert.ok((report.totals.counters['heard'] ?? 0) > 0, JSON.stringify(report.totals));
    assert.ok(report.totals.roundTrips >= (report.totals.counters['said'] ?? 0) + 4, 'joins and own lines are round trips');
    assert.match(readFileSync(join(p.dir, 'run.html'), 'utf8'), /u-legend/, 'the HTML report inlines uPlot from the installed dependency');
    server.child.kill('SIGTERM');
    assert.equal(await server.waitForExit(STEP_TIMEOUT_MS), 0, server.output());
  });
});
