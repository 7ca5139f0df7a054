/**
 * A user's project in a temp folder with gamewire installed from the packed tarball of this
 * repository, as a user would install it. Packing uses the `dist` that `npm test` has just built
 * (`--ignore-scripts`: no `prepack` rebuild that would replace `dist` under the tests still running).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { CliProcess } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/protos.js';

/** The project's sources (copied into the temp folder); see its README.md. */
export const PROJECT_TEMPLATE = join(REPO_ROOT, 'test', 'consumer', 'project');

/** What a finished command printed and how it exited. */
export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface RepoPackageJson {
  readonly name: string;
  readonly devDependencies: Readonly<Record<string, string>>;
}

/**
 * The environment of every child: without what `npm test` adds for the repository (its prefix,
 * INIT_CWD, npm_package_*: a nested npm would take the repository for the project), and with the
 * Node running these tests first on PATH, so npm, npx and the `gamewire` bin run on it too.
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const lower = key.toLowerCase();
    if (lower === 'npm_config_local_prefix' || lower === 'init_cwd') continue;
    if (lower.startsWith('npm_package_') || lower.startsWith('npm_lifecycle_')) continue;
    if (lower === 'npm_execpath' || lower === 'npm_node_execpath') continue;
    env[key] = value;
  }
  const pathKey = Object.keys(env).find((key) => key.toLowerCase() === 'path') ?? 'PATH';
  env[pathKey] = [dirname(process.execPath), env[pathKey]].filter(Boolean).join(delimiter);
  env['npm_config_update_notifier'] = 'false';
  env['npm_config_fund'] = 'false';
  env['npm_config_audit'] = 'false';
  return env;
}

export class ConsumerProject {
  private readonly children = new Set<CliProcess>();
  private readonly env = childEnv();

  private constructor(
    /** The temp folder: the tarball and the project. */
    readonly root: string,
    /** The project folder. */
    readonly dir: string,
  ) {}

  /** The installed package's folder, node_modules/gamewire. */
  get installed(): string {
    return join(this.dir, 'node_modules', 'gamewire');
  }

  /**
   * Packs the repository, makes the project (its own package.json, `"type": "module"`, typescript and
   * @types/node of the repository's ranges as devDependencies) and installs the tarball into it.
   */
  static async create(timeoutMs: number): Promise<ConsumerProject> {
    const root = mkdtempSync(join(tmpdir(), 'gamewire-consumer-'));
    const project = new ConsumerProject(root, join(root, 'app'));
    try {
      const dir = project.dir;
      cpSync(PROJECT_TEMPLATE, dir, { recursive: true });
      const repo = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as RepoPackageJson;
      const devDependencies: Record<string, string> = {};
      for (const name of ['typescript', '@types/node']) {
        const range = repo.devDependencies[name];
        if (range === undefined) throw new Error(`the repository has no devDependency ${name}`);
        devDependencies[name] = range;
      }
      const packageJson = { name: 'gamewire-consumer', version: '1.0.0', private: true, type: 'module', devDependencies };
      writeFileSync(join(dir, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);

      const pack = await project.run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', root], timeoutMs, REPO_ROOT);
      if (pack.code !== 0) throw new Error(`npm pack failed (${pack.code}):\n${pack.stderr}`);
      const [packed] = JSON.parse(pack.stdout) as Array<{ filename: string; name: string }>;
      if (packed?.name !== repo.name) throw new Error(`npm pack packed ${packed?.name}, not ${repo.name}`);
      const tarball = join(root, packed.filename);
      const install = await project.run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], timeoutMs);
      if (install.code !== 0) throw new Error(`npm install of the tarball failed (${install.code}):\n${install.stderr}`);
      return project;
    } catch (error) {
      await project.dispose();
      throw error;
    }
  }

  /** Starts `command args` in the project (or `cwd`); it is killed by {@link dispose} if still running. */
  start(command: string, args: readonly string[], cwd: string = this.dir): CliProcess {
    const child: ChildProcessByStdio<null, Readable, Readable> = spawn(command, args, {
      cwd,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const cli = new CliProcess(child);
    // A command that cannot be started emits 'error' (then 'close' with a negative code): show why.
    child.once('error', (error) => cli.stderrLines.push(String(error)));
    this.children.add(cli);
    return cli;
  }

  /** Runs `command args` to its end; fails (after killing it) when it takes over `timeoutMs`. */
  async run(command: string, args: readonly string[], timeoutMs: number, cwd: string = this.dir): Promise<CommandResult> {
    const cli = this.start(command, args, cwd);
    let code: number | null;
    try {
      code = await cli.waitForExit(timeoutMs);
    } catch (error) {
      cli.child.kill('SIGKILL');
      await cli.waitForExit();
      throw new Error(`${command} ${args.join(' ')}: ${String(error)}\n${cli.output()}`);
    }
    return { code, stdout: cli.stdoutLines.join('\n'), stderr: cli.stderrLines.join('\n') };
  }

  /** Kills what is still running and removes the temp folder. */
  async dispose(): Promise<void> {
    for (const cli of this.children) {
      if (cli.exited) continue;
      cli.child.kill('SIGKILL');
      await cli.waitForExit();
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
