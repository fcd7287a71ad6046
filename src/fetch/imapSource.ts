/**
 * The {@link MailSource} of a real IMAP server, on imapflow. The only module of mailgit
 * that talks IMAP.
 *
 * Two imapflow rules shape it:
 *  - no command may be issued while a `client.fetch()` iteration is running (imapflow
 *    queues it behind the FETCH, which waits for the consumer: a deadlock). Listing
 *    collects everything first (`fetchAll`); {@link MailSource.downloadMany} yields while
 *    the FETCH runs (disk writes overlap the network) and refuses any other call meanwhile
 *    with kind `busy` instead of hanging;
 *  - `download()` streams a message in pieces (`chunkSize`), so a large message never sits
 *    in memory.
 */
import { PassThrough, type Readable } from 'node:stream';
import { ImapFlow, type FetchMessageObject } from 'imapflow';
import type { Account } from './account.js';
import {
  MailSourceError,
  type Appended,
  type ChangedSince,
  type DownloadedMessage,
  type MailSource,
  type MessageMeta,
  type OpenedFolder,
  type SourceFolder,
  type StoredFlags,
} from './mailSource.js';

/** Options of {@link imapSource} beyond the account. */
export interface ImapSourceOptions {
  /** Piece size of a streamed download (default 1 MiB). */
  chunkSize?: number;
}

/**
 * An imapflow client for an account; `secret` is the password or (`auth: oauth2`) the
 * access token. `idle`: the client keeps the selected folder in IDLE (re-issued every
 * `idle` ms) instead of staying silent between commands.
 */
export function clientFor(account: Account, secret: string, idle?: number): ImapFlow {
  return new ImapFlow({
    host: account.host,
    port: account.port,
    secure: account.security === 'tls',
    doSTARTTLS: account.security === 'starttls' ? true : account.security === 'none' ? false : undefined,
    auth: account.auth === 'oauth2' ? { user: account.user, accessToken: secret } : { user: account.user, pass: secret },
    // No servername: imapflow sends the host as SNI unless it is an IP address, which Node
    // would warn about on stderr (DEP0123); the certificate is checked against the host.
    tls: { rejectUnauthorized: !account.insecure },
    logger: false,
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 5 * 60_000,
    disableAutoIdle: idle === undefined,
    ...(idle !== undefined ? { maxIdleTime: idle } : {}),
    disableCompression: true,
    // Where offered: expunges since a MODSEQ come with the flag changes (VANISHED).
    qresync: true,
  });
}

/** Maps a failure of `connect()` to auth / tls / unreachable. */
export function connectFailure(err: unknown): MailSourceError {
  if (err instanceof MailSourceError) return err;
  const e = err as { authenticationFailed?: boolean; code?: string; message?: string; serverResponseCode?: string } | null;
  if (e?.authenticationFailed || e?.serverResponseCode === 'AUTHENTICATIONFAILED') return new MailSourceError('auth', 'login failed');
  const code = e?.code ?? '';
  if (/CERT|SSL|TLS|SELF_SIGNED|ERR_TLS/i.test(`${code} ${e?.message ?? ''}`)) return new MailSourceError('tls', code || 'handshake');
  return new MailSourceError('unreachable', code || e?.message || 'connection failed');
}

/** Maps a failure after login to lost / server; anything else is passed through. */
export function runFailure(err: unknown): unknown {
  if (err instanceof MailSourceError) return err;
  const e = err as { code?: string; message?: string; responseText?: string } | null;
  if (
    e &&
    typeof e === 'object' &&
    (e.code === 'EConnectionClosed' || e.code === 'NoConnection' || /ECONN|EPIPE|ETIMEDOUT|closed|socket/i.test(`${e.code} ${e.message}`))
  ) {
    return new MailSourceError('lost', String(e.code ?? e.message));
  }
  if (e && typeof e === 'object' && typeof e.responseText === 'string') return new MailSourceError('server', e.responseText);
  return err;
}

const sortedFlags = (flags: Iterable<string> | undefined): string[] => [...(flags ?? [])].filter((f) => f.toLowerCase() !== '\\recent').sort();

function metaOf(m: FetchMessageObject): MessageMeta {
  const date = m.internalDate === undefined ? undefined : new Date(m.internalDate);
  return { uid: m.uid, size: m.size ?? 0, flags: sortedFlags(m.flags), ...(date && Number.isFinite(date.getTime()) ? { internalDate: date } : {}) };
}

/** Opens (lazily: see `connect()`) the IMAP source of an account. */
export function imapSource(account: Account, secret: string, opts: ImapSourceOptions = {}): MailSource {
  const client = clientFor(account, secret);
  let lastSocketError: unknown = null;
  client.on('error', (e: unknown) => {
    lastSocketError = e;
  });
  let collectVanished: number[] | null = null;
  client.on('expunge', (e: { uid?: number; vanished?: boolean; earlier?: boolean }) => {
    if (collectVanished && e.vanished && e.earlier && e.uid !== undefined) collectVanished.push(e.uid);
  });
  let iterating = false;
  let closed = false;

  /** Runs one command, mapping its failure; refuses while a `downloadMany` is iterated. */
  const run = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (iterating) throw new MailSourceError('busy', 'a downloadMany() iteration is still running');
    try {
      return await fn();
    } catch (err) {
      throw runFailure(err);
    }
  };

  return {
    async connect() {
      try {
        await client.connect();
      } catch (err) {
        throw connectFailure(lastSocketError ?? err);
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      if (client.usable) await client.logout().catch(() => undefined);
      else client.close();
    },

    list: () =>
      run(async (): Promise<SourceFolder[]> => {
        const listed = await client.list(
          client.capabilities.has('LIST-STATUS')
            ? { statusQuery: { uidNext: true, uidValidity: true, highestModseq: client.capabilities.has('CONDSTORE'), messages: true } }
            : {},
        );
        return listed.map((l) => {
          const st = l.status;
          const status =
            st && st.messages !== undefined && st.uidNext !== undefined && st.uidValidity !== undefined
              ? {
                  messages: st.messages,
                  uidNext: st.uidNext,
                  uidValidity: st.uidValidity.toString(),
                  ...(st.highestModseq !== undefined ? { highestModseq: st.highestModseq.toString() } : {}),
                }
              : undefined;
          return {
            path: l.path,
            delimiter: l.delimiter || null,
            flags: [...l.flags].sort(),
            ...(l.specialUse && l.specialUseSource === 'extension' ? { specialUse: l.specialUse } : {}),
            ...(status ? { status } : {}),
          };
        });
      }),

    open: (path: string, o: { write?: boolean } = {}) =>
      run(async (): Promise<OpenedFolder> => {
        const mb = await client.mailboxOpen(path, { readOnly: !o.write });
        const condstore = !mb.noModseq && mb.highestModseq !== undefined;
        return {
          uidValidity: mb.uidValidity.toString(),
          uidNext: mb.uidNext,
          exists: mb.exists,
          condstore,
          ...(condstore ? { highestModseq: mb.highestModseq!.toString() } : {}),
        };
      }),

    messagesAfter: (uid: number) =>
      run(async () => {
        // `n:*` also matches the highest UID when it is below n: filter.
        const all = await client.fetchAll(`${uid + 1}:*`, { uid: true, flags: true, internalDate: true, size: true }, { uid: true });
        return all
          .filter((m) => m.uid > uid)
          .map(metaOf)
          .sort((a, b) => a.uid - b.uid);
      }),

    changedSince: (modseq: string, maxUid: number) =>
      run(async (): Promise<ChangedSince> => {
        const qresync = client.enabled.has('QRESYNC');
        if (maxUid < 1) return { changed: [], vanished: qresync ? [] : null };
        // With QRESYNC enabled imapflow adds VANISHED to CHANGEDSINCE: the expunged UIDs
        // arrive as "VANISHED (EARLIER)" in the same round trip, reported as expunge events.
        const vanished: number[] = [];
        collectVanished = vanished;
        try {
          const all = await client.fetchAll(
            `1:${maxUid}`,
            { uid: true, flags: true, internalDate: true, size: true },
            { uid: true, changedSince: BigInt(modseq) },
          );
          const changed = all
            .filter((m) => m.uid <= maxUid)
            .map(metaOf)
            .sort((a, b) => a.uid - b.uid);
          return { changed, vanished: qresync ? vanished.filter((u) => u <= maxUid) : null };
        } finally {
          collectVanished = null;
        }
      }),

    flagsUpTo: (maxUid: number) =>
      run(async () => {
        if (maxUid < 1) return [];
        const all = await client.fetchAll(`1:${maxUid}`, { uid: true, flags: true }, { uid: true });
        return all
          .filter((m) => m.uid <= maxUid)
          .map((m) => ({ uid: m.uid, flags: sortedFlags(m.flags) }))
          .sort((a, b) => a.uid - b.uid);
      }),

    metasOf: (uids: number[]) =>
      run(async () => {
        if (uids.length === 0) return [];
        const want = new Set(uids);
        const all = await client.fetchAll(uids.join(','), { uid: true, flags: true, internalDate: true, size: true }, { uid: true });
        return all
          .filter((m) => want.has(m.uid))
          .map(metaOf)
          .sort((a, b) => a.uid - b.uid);
      }),

    uids: () =>
      run(async () => {
        const r = await client.search({ all: true }, { uid: true });
        return (r || []).sort((a, b) => a - b);
      }),

    searchMessageId: (messageId: string) =>
      run(async () => {
        const r = await client.search({ header: { 'message-id': messageId } }, { uid: true });
        return (r || []).sort((a, b) => a - b);
      }),

    storeFlags: (uids: number[], flags: string[], how: 'add' | 'remove') =>
      run(async () => {
        if (uids.length === 0 || flags.length === 0) return [];
        // The server's FETCH answers to the STORE: each changed message's flags, and with CONDSTORE enabled its new MODSEQ.
        const wanted = new Set(uids);
        const answers = new Map<number, StoredFlags>();
        const onFlags = (e: { uid?: number; modseq?: bigint; flags?: Set<string> }) => {
          if (e.uid === undefined || !wanted.has(e.uid)) return;
          answers.set(e.uid, { uid: e.uid, flags: sortedFlags(e.flags), ...(e.modseq !== undefined ? { modseq: e.modseq.toString() } : {}) });
        };
        client.on('flags', onFlags);
        try {
          const ok =
            how === 'add'
              ? await client.messageFlagsAdd(uids.join(','), flags, { uid: true })
              : await client.messageFlagsRemove(uids.join(','), flags, { uid: true });
          if (!ok) throw new MailSourceError('server', `STORE ${how === 'add' ? '+' : '-'}FLAGS refused`);
        } finally {
          client.off('flags', onFlags);
        }
        return [...answers.values()].sort((a, b) => a.uid - b.uid);
      }),

    expunge: (uids: number[]) =>
      run(async () => {
        if (uids.length === 0) return;
        if (!(await client.messageDelete(uids.join(','), { uid: true }))) throw new MailSourceError('server', 'EXPUNGE refused');
      }),

    move: (uids: number[], dest: string) =>
      run(async () => {
        const out = new Map<number, number>();
        if (uids.length === 0) return out;
        const r = await client.messageMove(uids.join(','), dest, { uid: true });
        if (!r) throw new MailSourceError('server', `MOVE to ${dest} refused`);
        for (const [from, to] of r.uidMap ?? new Map<number, number>()) out.set(Number(from), Number(to));
        return out;
      }),

    // biome-ignore lint/complexity/useMaxParams: the port's append is IMAP APPEND's (mailbox, message, flags, date), in the order imapflow's append takes and passes to the server.
    append: (path: string, content: Buffer, flags: string[], date: Date) =>
      run(async (): Promise<Appended> => {
        const r = await client.append(path, content, flags, date);
        if (!r) throw new MailSourceError('server', `APPEND to ${path} refused`);
        return { ...(r.uid !== undefined ? { uid: r.uid } : {}), ...(r.uidValidity !== undefined ? { uidValidity: r.uidValidity.toString() } : {}) };
      }),

    download: (uid: number) =>
      run(async (): Promise<Readable | null> => {
        const d = await client.download(String(uid), undefined, { uid: true, chunkSize: opts.chunkSize ?? 1 << 20 });
        if (!d.content) return null; // expunged meanwhile
        // Failures while streaming are mapped like those of a command.
        const content = d.content;
        const out = new PassThrough();
        content.on('error', (err) => out.destroy(runFailure(err) as Error));
        out.on('close', () => {
          if (!content.readableEnded) content.destroy();
        });
        content.pipe(out);
        return out;
      }),

    async *downloadMany(uids: number[]): AsyncIterable<DownloadedMessage> {
      if (uids.length === 0) return;
      if (iterating) throw new MailSourceError('busy', 'a downloadMany() iteration is still running');
      const want = new Set(uids);
      iterating = true;
      try {
        for await (const msg of client.fetch(uids.join(','), { uid: true, source: true }, { uid: true })) {
          if (!msg.source || !want.has(msg.uid)) continue;
          yield { uid: msg.uid, content: msg.source };
        }
      } catch (err) {
        throw runFailure(err);
      } finally {
        iterating = false;
      }
    },
  };
}
