/**
 * The README's "Install" and "The first ten minutes", run as written: every code block
 * between those headings and "## Everyday use", in order, each `sh` block with bash on the
 * machine its first comment names (a HOME of its own: desktop or laptop), `ssh://desktop`
 * reaching a real sshd whose logins get the desktop's HOME, and a Dovecot on loopback for
 * the IMAP account. Put in for the test, and only that: the account's host (the server's
 * address, port and `--no-tls`), a `pass` that prints the server's password, and `npm
 * install`, already done for this checkout. The crontab line's command and the systemd
 * unit's `ExecStart` (with `%h`) run as cron and systemd would start them.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gitOut, tempDir } from '../helpers/cli.js';
import { startDovecot } from '../helpers/dovecot.js';
import type { Dovecot } from '../helpers/dovecot.js';
import { messageText } from '../helpers/replica.js';
import { sshdUnavailable, startSshd } from '../helpers/sshd.js';
import type { Sshd } from '../helpers/sshd.js';

vi.setConfig({ testTimeout: 600_000 });

const ROOT = resolve(__dirname, '../..');
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const missing = sshdUnavailable() ?? (have('dovecot') && have('doveadm') ? null : 'dovecot is not installed');

interface Block {
  lang: string;
  text: string;
}

/** The fenced code blocks of the README between `## Install` and `## Everyday use`. */
function storyBlocks(): Block[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const story = readme.slice(readme.indexOf('\n## Install\n'), readme.indexOf('\n## Everyday use\n'));
  return [...story.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, text: m[2]! }));
}

/** Writes an executable script. */
function script(path: string, text: string): void {
  writeFileSync(path, `#!/bin/sh\n${text}\n`);
  chmodSync(path, 0o755);
}

/** A Maildir as mutt or mbsync leaves it (Maildir++: INBOX at the root, `.Archive`). */
function mutt(dir: string): void {
  for (const f of ['', '.Archive']) for (const s of ['cur', 'new', 'tmp']) mkdirSync(join(dir, f, s), { recursive: true });
  writeFileSync(join(dir, 'cur', '1700000000.M1P1.desktop:2,S'), messageText('an old letter'));
  writeFileSync(join(dir, 'new', '1700000001.M1P1.desktop'), messageText('unread'));
  writeFileSync(join(dir, '.Archive', 'cur', '1700000002.M1P1.desktop:2,S'), messageText('kept'));
}

describe.skipIf(missing !== null)('README: install and the first ten minutes', () => {
  let sshd: Sshd;
  let dc: Dovecot;
  const top = tempDir('mailgit-readme-');
  const home = { desktop: join(top, 'desktop'), laptop: join(top, 'laptop') };
  const bin = join(top, 'bin');

  beforeAll(async () => {
    for (const h of Object.values(home)) mkdirSync(h);
    mkdirSync(bin);
    mutt(join(home.desktop, 'Mail'));
    sshd = await startSshd({ home: home.desktop });
    dc = await startDovecot({ users: [{ user: 'me', password: 'pw-me-Zq8!' }] });
    await dc.append('INBOX', [messageText('fetched from work')]);
    script(join(bin, 'pass'), `[ "$*" = "show mail/work" ] && echo '${dc.password}'`);
  });
  afterAll(async () => {
    await sshd?.stop();
    await dc?.stop();
  });

  /** The environment of a machine: its HOME, its ~/.local/bin first on PATH, ssh to the desktop. */
  const envOf = (machine: keyof typeof home): NodeJS.ProcessEnv => ({
    ...process.env,
    HOME: home[machine],
    PATH: `${home[machine]}/.local/bin:${bin}:${process.env.PATH}`,
    ...sshd.env,
  });

  /** Runs a block's text with bash -e on `machine`, from `cwd`; returns stdout. */
  function bash(machine: keyof typeof home, text: string, cwd = home[machine]): string {
    const r = spawnSync('bash', ['-e', '-c', text], { cwd, env: envOf(machine), encoding: 'utf8', timeout: 300_000 });
    expect(r.status, `${machine}: ${text}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
    return r.stdout;
  }

  function forTest(text: string): string {
    return text.replace('--host imap.example.org', `--host ${dc.host} --port ${dc.port} --no-tls`);
  }

  /** Runs the unit's ExecStart until a message a client drops on the laptop has reached the hub, then stops it as systemd does. */
  async function runUnit(ini: string): Promise<void> {
    const exec = /^ExecStart=(.*)$/m.exec(ini)![1]!.replaceAll('%h', home.laptop).split(' ');
    const child = spawn(exec[0]!, exec.slice(1), { env: envOf('laptop'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const until = async (ok: () => boolean, what: string) => {
      for (const deadline = Date.now() + 120_000; !ok(); await new Promise((r) => setTimeout(r, 200))) {
        if (Date.now() > deadline) throw new Error(`${what} did not happen; watch said:\n${out}`);
      }
    };
    await until(() => out.includes('watching '), 'watch start');
    writeFileSync(join(home.laptop, 'Mail', 'new', '1800000000.M1P1.laptop'), messageText('written on the laptop'));
    const hub = join(home.desktop, 'hub.git');
    await until(() => gitOut(hub, ['ls-tree', '-r', '--name-only', 'main']).includes('1800000000.M1P1.laptop'), 'the push to the hub');
    child.kill('SIGTERM');
    expect(await exited, out).toBe(0);
  }

  test('every block runs as written, and the mail goes round', async () => {
    const blocks = storyBlocks();
    expect(blocks.map((b) => b.lang)).toEqual(['sh', 'sh', 'sh', 'sh', 'crontab', 'ini', 'sh']);
    const [install, ...rest] = blocks;
    // Install: both machines put this checkout's mailgit on PATH (npm install is done).
    for (const machine of ['desktop', 'laptop'] as const) {
      const lines = install!.text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('npm install'));
      expect(bash(machine, lines.join('\n'), ROOT)).toMatch(/^\d+\.\d+\.\d+\n$/);
    }
    for (const b of rest) {
      if (b.lang === 'sh') {
        const machine = /^# (desktop|laptop):/.exec(b.text)?.[1] as keyof typeof home;
        expect(machine, b.text).toBeDefined();
        bash(machine, forTest(b.text));
      } else if (b.lang === 'crontab') {
        bash('desktop', b.text.trim().split(/\s+/).slice(5).join(' '));
      } else await runUnit(b.text);
    }

    const laptop = join(home.laptop, 'Mail');
    const files = gitOut(laptop, ['grep', '-l', '-e', 'fetched from work', '-e', 'an old letter', 'HEAD', '--']);
    expect(files.split('\n').filter(Boolean)).toHaveLength(2);
    expect(gitOut(join(home.desktop, 'hub.git'), ['symbolic-ref', 'HEAD']).trim()).toBe('refs/heads/main');
    const desktop = bash('desktop', 'cd ~/Mail && mailgit sync && mailgit log -n 5');
    expect(desktop).toMatch(/^[0-9a-f]{10} .* laptop(: .*)?\n {4}INBOX: 1 delivered$/m);
  });
});
