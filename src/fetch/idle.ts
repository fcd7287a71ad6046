/**
 * One IDLE connection to an account's server, for `mailgit watch --fetch`: it keeps one
 * folder (INBOX, or one the account names in `idle`) selected (read-only) in IDLE and
 * calls `onChange` whenever the server says something changed there (new mail, an expunge, a flag). It downloads nothing itself: the caller
 * runs a fetch. When the connection drops (the network, a suspend, the server
 * restarting) it reconnects with backoff — 1 s, doubling up to `maxBackoffMs` — and calls
 * `onChange` once connected again, since mail may have arrived meanwhile.
 *
 * With `notify`, where the server advertises NOTIFY (RFC 5465), the connection also asks
 * for the changes of every folder of the personal namespace (`NOTIFY SET (selected …)
 * (personal …)`): the others come as untagged STATUS responses, so one connection covers
 * all folders. imapflow has no NOTIFY API; its own command machinery sends the command
 * and parses the answers (see {@link notifyAll}), so no IMAP is written or parsed here.
 */
import type { ImapFlow } from 'imapflow';
import type { Account } from './account.js';
import { clientFor, connectFailure } from './imapSource.js';
import type { MailSourceError } from './mailSource.js';

/** Options of {@link startIdle}. */
export interface IdleOptions {
  /** The remote folder kept in IDLE (default INBOX). */
  folder?: string;
  /** Called (at once, without waiting) when the folder changed, and after each (re)connection. */
  onChange(): void;
  /** Called when the connection failed or dropped; `retryMs` is the wait before the next attempt. */
  onDown?(error: MailSourceError, retryMs: number): void;
  /** Longest wait between two attempts (default 60 s). */
  maxBackoffMs?: number;
  /** IDLE is re-issued this often (default 5 min; servers drop an IDLE after 30). */
  reissueMs?: number;
  /** Ask for every folder's changes with NOTIFY where the server has it. */
  notify?: boolean;
  /** Called after each (re)connection: whether NOTIFY covers every folder on this connection. */
  onNotify?(everyFolder: boolean): void;
}

/** A running IDLE connection. */
export interface Idle {
  /** Whether the connection is up and in IDLE (or about to be). */
  readonly connected: boolean;
  /** Logs out and stops reconnecting. */
  close(): Promise<void>;
}

/** Starts the IDLE connection of `account`; `secret` gives its password or access token at each connection. */
export function startIdle(account: Account, secret: (account: Account) => Promise<string>, opts: IdleOptions): Idle {
  const maxBackoff = opts.maxBackoffMs ?? 60_000;
  let stopped = false;
  let connected = false;
  let client: ReturnType<typeof clientFor> | null = null;
  let retry: NodeJS.Timeout | null = null;
  let backoff = 1000;

  const down = (err: unknown) => {
    connected = false;
    client?.removeAllListeners();
    client?.close();
    client = null;
    if (stopped) return;
    const wait = backoff;
    backoff = Math.min(backoff * 2, maxBackoff);
    opts.onDown?.(connectFailure(err), wait);
    retry = setTimeout(() => void up(), wait);
  };

  const up = async () => {
    retry = null;
    if (stopped) return;
    let c: ReturnType<typeof clientFor>;
    try {
      c = clientFor(account, await secret(account), opts.reissueMs ?? 5 * 60_000);
    } catch (err) {
      down(err);
      return;
    }
    if (stopped) return;
    client = c;
    c.on('error', () => undefined); // 'close' follows and reconnects
    c.on('close', () => {
      if (client === c) down(new Error('connection closed'));
    });
    for (const ev of ['exists', 'expunge', 'flags']) c.on(ev, () => opts.onChange());
    let everyFolder = false;
    try {
      await c.connect();
      if (opts.notify) everyFolder = await notifyAll(c, () => opts.onChange());
      await c.mailboxOpen(opts.folder ?? 'INBOX', { readOnly: true });
    } catch (err) {
      if (client === c) down(err);
      return;
    }
    if (stopped) return;
    connected = true;
    backoff = 1000;
    opts.onNotify?.(everyFolder);
    opts.onChange(); // whatever arrived while no one listened
    void c.idle().catch(() => undefined); // auto-IDLE takes over after each break
  };

  void up();
  return {
    get connected() {
      return connected;
    },
    async close() {
      stopped = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = null;
      connected = false;
      if (c) {
        c.removeAllListeners();
        c.on('error', () => undefined);
        await c.logout().catch(() => c.close());
      }
    },
  };
}

/**
 * The two parts of imapflow's command machinery that NOTIFY needs and imapflow does not
 * export (it marks them internal): `exec` compiles and sends a command and resolves on its
 * tagged answer; `untaggedHandlers` are the connection-wide handlers of untagged
 * responses that no running command claims, which get them parsed.
 */
interface Machinery {
  exec(command: string, attributes: unknown[]): Promise<{ next(): void }>;
  untaggedHandlers: Record<string, unknown>;
}

const atom = (value: string) => ({ type: 'ATOM', value });
const EVENTS = [atom('MessageNew'), atom('MessageExpunge'), atom('FlagChange')];

/**
 * Sends `NOTIFY SET (selected (MessageNew MessageExpunge FlagChange)) (personal (…))` on a
 * logged-in connection whose server advertises NOTIFY, and calls `onChange` on each
 * untagged STATUS that follows (a change in a folder other than the selected one; the
 * selected folder's changes keep coming as EXISTS, EXPUNGE and FETCH). Returns false —
 * and changes nothing — when the server lacks NOTIFY, refuses the command, or this
 * imapflow lacks the machinery: the caller then keeps folders in IDLE one by one.
 */
async function notifyAll(c: ImapFlow, onChange: () => void): Promise<boolean> {
  const m = c as unknown as Partial<Machinery>;
  if (!c.capabilities.has('NOTIFY') || typeof m.exec !== 'function' || typeof m.untaggedHandlers !== 'object' || m.untaggedHandlers === null) return false;
  const handlers = m.untaggedHandlers;
  handlers.STATUS = async () => onChange();
  try {
    const answer = await m.exec.call(c, 'NOTIFY', [atom('SET'), [atom('selected'), EVENTS], [atom('personal'), EVENTS]]);
    answer.next();
    return true;
  } catch (err) {
    delete handlers.STATUS;
    const status = (err as { responseStatus?: string }).responseStatus;
    if (status === 'NO' || status === 'BAD') return false; // the server would not
    throw err;
  }
}
