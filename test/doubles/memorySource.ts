/**
 * A {@link MailSource} held in memory: a mail server (folders with UIDVALIDITY, UIDs, flags,
 * MODSEQ counters, INTERNALDATEs) that tests change directly and that can fail on demand.
 * It behaves like Dovecot where the contract test can see it: a new folder has
 * HIGHESTMODSEQ 1, every append and every flag change takes the next MODSEQ, a parent
 * created implicitly by `a/b` is listed `\Noselect`, INTERNALDATEs have whole seconds.
 *
 *     const server = new MemoryMailServer();
 *     server.append('INBOX', 'Subject: hi\r\n\r\nbody\r\n', { flags: ['\\Seen'] });
 *     const source = server.source();          // one "connection"
 *     server.dropAfterDownloads(3);            // the 4th message download fails: kind `lost`
 *
 * Several sources (connections) may be open on one server at once.
 */
import { Readable } from 'node:stream';
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
  type UidFlags,
} from '../../src/fetch/mailSource.js';

interface MemMessage {
  uid: number;
  content: Buffer;
  flags: Set<string>;
  internalDate: Date;
  modseq: bigint;
}

interface MemFolder {
  path: string;
  uidValidity: bigint;
  uidNext: number;
  highestModseq: bigint;
  messages: Map<number, MemMessage>;
  specialUse?: string;
}

/** Options of {@link MemoryMailServer}. */
export interface MemoryServerOptions {
  /** Hierarchy delimiter (default `/`). */
  delimiter?: string;
  /** Whether LIST returns STATUS (LIST-STATUS); default true. */
  listStatus?: boolean;
  /** Whether folders have MODSEQs (CONDSTORE); default true. */
  condstore?: boolean;
  /** The password `source(password)` must be given (default: any is accepted). */
  password?: string;
  /** First UIDVALIDITY handed out (default 1700000000); each new folder takes the next. */
  firstUidValidity?: number;
}

/** Options of {@link MemoryMailServer.append}. */
export interface MemoryAppendOptions {
  flags?: string[];
  internalDate?: Date;
}

const normFlags = (flags: Iterable<string>): string[] => [...new Set(flags)].filter((f) => f.toLowerCase() !== '\\recent').sort();

/** The in-memory server; {@link source} opens a connection to it. */
export class MemoryMailServer {
  private readonly folders = new Map<string, MemFolder>();
  private nextValidity: bigint;
  private readonly opts: Required<Omit<MemoryServerOptions, 'password' | 'firstUidValidity'>> & { password?: string };
  /** Downloads left before the connection drops (`null`: never). Shared by all connections. */
  private downloadsLeft: number | null = null;
  /** Connection refused (unreachable) while set. */
  unreachable = false;
  /** Every connection made, for tests that look at what was asked. */
  readonly connections: MemorySource[] = [];
  /** Messages served, counted over all connections. */
  downloads = 0;
  /**
   * Called with every method call of every connection (`open INBOX`, `downloadMany 1,2`)
   * before it is answered: a test changes the server at an exact moment through it.
   */
  onCall: ((call: string) => void) | null = null;

  constructor(opts: MemoryServerOptions = {}) {
    this.opts = { delimiter: opts.delimiter ?? '/', listStatus: opts.listStatus ?? true, condstore: opts.condstore ?? true, password: opts.password };
    this.nextValidity = BigInt(opts.firstUidValidity ?? 1_700_000_000);
    this.create('INBOX');
  }

  /** Creates a folder (no-op if it exists). */
  create(path: string, opts: { specialUse?: string; uidValidity?: number | string } = {}): void {
    const key = this.key(path);
    if (this.folders.has(key)) return;
    this.folders.set(key, {
      path: key,
      uidValidity: opts.uidValidity !== undefined ? BigInt(opts.uidValidity) : this.nextValidity++,
      uidNext: 1,
      highestModseq: 1n,
      messages: new Map(),
      ...(opts.specialUse ? { specialUse: opts.specialUse } : {}),
    });
  }

  /** Appends messages (creating the folder) and returns their UIDs. */
  append(path: string, messages: (string | Buffer)[] | string | Buffer, opts: MemoryAppendOptions = {}): number[] {
    this.create(path);
    const f = this.folder(path);
    const list = Array.isArray(messages) ? messages : [messages];
    const date = opts.internalDate ?? new Date();
    const secs = new Date(Math.floor(date.getTime() / 1000) * 1000);
    return list.map((m) => {
      const uid = f.uidNext++;
      f.highestModseq++;
      f.messages.set(uid, { uid, content: Buffer.from(m), flags: new Set(normFlags(opts.flags ?? [])), internalDate: secs, modseq: f.highestModseq });
      return uid;
    });
  }

  /** Replaces a message's flags (a new MODSEQ, even if nothing changed — as STORE FLAGS does). */
  setFlags(path: string, uid: number, flags: string[]): void {
    const m = this.message(path, uid);
    m.flags = new Set(normFlags(flags));
    m.modseq = ++this.folder(path).highestModseq;
  }

  /** Adds flags to a message (a new MODSEQ only when something changed). */
  addFlags(path: string, uid: number, flags: string[]): void {
    const m = this.message(path, uid);
    const next = normFlags([...m.flags, ...flags]);
    if (next.length !== m.flags.size) this.setFlags(path, uid, next);
  }

  /** Removes flags from a message (a new MODSEQ only when something changed). */
  removeFlags(path: string, uid: number, flags: string[]): void {
    const m = this.message(path, uid);
    const next = [...m.flags].filter((f) => !flags.includes(f));
    if (next.length !== m.flags.size) this.setFlags(path, uid, next);
  }

  /** Removes messages. */
  expunge(path: string, uids: number[]): void {
    const f = this.folder(path);
    for (const u of uids) f.messages.delete(u);
    f.highestModseq++;
  }

  /**
   * Gives a folder a new UIDVALIDITY. `renumber: true` also gives every message a new UID
   * from 1 (what a server that lost its index does); the default keeps UIDs (what
   * `doveadm mailbox update --uid-validity` does).
   */
  resetUidValidity(path: string, uidValidity?: number | string, opts: { renumber?: boolean } = {}): void {
    const f = this.folder(path);
    f.uidValidity = uidValidity !== undefined ? BigInt(uidValidity) : this.nextValidity++;
    if (opts.renumber) {
      const msgs = [...f.messages.values()].sort((a, b) => a.uid - b.uid);
      f.messages.clear();
      f.uidNext = 1;
      for (const m of msgs) {
        m.uid = f.uidNext++;
        f.messages.set(m.uid, m);
      }
    }
  }

  /** The messages of a folder by UID (for assertions). */
  contents(path: string): Map<number, Buffer> {
    return new Map([...this.folder(path).messages.values()].map((m) => [m.uid, m.content]));
  }

  /**
   * After `n` more message downloads (over all connections), the connection carrying the
   * next one drops: that download and every later call on it fail with kind `lost`.
   * `null` cancels.
   */
  dropAfterDownloads(n: number | null): void {
    this.downloadsLeft = n;
  }

  /** Drops every open connection now (their next call fails with kind `lost`). */
  dropConnections(): void {
    for (const c of this.connections) c.drop();
  }

  /** Opens a connection as a {@link MailSource}; `password` is checked at `connect()`. */
  source(password?: string): MemorySource {
    const s = new MemorySource(this, password);
    this.connections.push(s);
    return s;
  }

  // --- used by MemorySource -------------------------------------------------------------

  /** @internal */
  checkLogin(password: string | undefined): void {
    if (this.unreachable) throw new MailSourceError('unreachable', 'ECONNREFUSED');
    if (this.opts.password !== undefined && password !== this.opts.password) throw new MailSourceError('auth', 'login failed');
  }

  /** @internal Counts a download; false when the connection must drop instead. */
  takeDownload(): boolean {
    if (this.downloadsLeft !== null) {
      if (this.downloadsLeft <= 0) {
        this.downloadsLeft = null;
        return false;
      }
      this.downloadsLeft--;
    }
    this.downloads++;
    return true;
  }

  /** @internal */
  listFolders(): SourceFolder[] {
    const d = this.opts.delimiter;
    const paths = new Set(this.folders.keys());
    const parents = new Set<string>();
    for (const p of paths) {
      const segs = p.split(d);
      for (let i = 1; i < segs.length; i++) parents.add(segs.slice(0, i).join(d));
    }
    const out: SourceFolder[] = [];
    for (const p of [...new Set([...paths, ...parents])].sort()) {
      const children = parents.has(p) ? '\\HasChildren' : '\\HasNoChildren';
      const f = this.folders.get(p);
      if (!f) {
        out.push({ path: p, delimiter: d, flags: ['\\HasChildren', '\\Noselect'] });
        continue;
      }
      out.push({
        path: p,
        delimiter: d,
        flags: [children, ...(f.specialUse ? [f.specialUse] : [])].sort(),
        ...(f.specialUse ? { specialUse: f.specialUse } : {}),
        ...(this.opts.listStatus
          ? {
              status: {
                messages: f.messages.size,
                uidNext: f.uidNext,
                uidValidity: f.uidValidity.toString(),
                ...(this.opts.condstore ? { highestModseq: f.highestModseq.toString() } : {}),
              },
            }
          : {}),
      });
    }
    return out;
  }

  /** @internal */
  condstore(): boolean {
    return this.opts.condstore;
  }

  /** @internal The folder for a path (INBOX in any case). */
  folder(path: string): MemFolder {
    const f = this.folders.get(this.key(path));
    if (!f) throw new MailSourceError('server', `Mailbox doesn't exist: ${path}`);
    return f;
  }

  private key(path: string): string {
    return path.toUpperCase() === 'INBOX' ? 'INBOX' : path;
  }

  private message(path: string, uid: number): MemMessage {
    const m = this.folder(path).messages.get(uid);
    if (!m) throw new Error(`no message ${uid} in ${path}`);
    return m;
  }
}

function metaOf(m: MemMessage): MessageMeta {
  return { uid: m.uid, size: m.content.length, flags: [...m.flags].sort(), internalDate: new Date(m.internalDate) };
}

/** One connection to a {@link MemoryMailServer}. */
export class MemorySource implements MailSource {
  private state: 'new' | 'open' | 'lost' | 'closed' = 'new';
  private selected: string | null = null;
  private writable = false;
  private iterating = false;
  /** Every method call, in order (`open INBOX`, `messagesAfter 3`, …). */
  readonly calls: string[] = [];

  constructor(
    private readonly server: MemoryMailServer,
    private readonly password: string | undefined,
  ) {}

  /** Makes this connection lost. */
  drop(): void {
    if (this.state === 'open') this.state = 'lost';
  }

  private check(call: string): void {
    this.calls.push(call);
    this.server.onCall?.(call);
    if (this.iterating) throw new MailSourceError('busy', 'a downloadMany() iteration is still running');
    if (this.state === 'lost') throw new MailSourceError('lost', 'EConnectionClosed');
    if (this.state !== 'open') throw new MailSourceError('lost', 'NoConnection');
  }

  private current(): MemFolder {
    if (this.selected === null) throw new MailSourceError('server', 'No mailbox selected');
    return this.server.folder(this.selected);
  }

  private take(): void {
    if (!this.server.takeDownload()) {
      this.state = 'lost';
      throw new MailSourceError('lost', 'EConnectionClosed');
    }
  }

  async connect(): Promise<void> {
    this.calls.push('connect');
    this.server.checkLogin(this.password);
    this.state = 'open';
  }

  async close(): Promise<void> {
    this.calls.push('close');
    this.state = 'closed';
  }

  async list(): Promise<SourceFolder[]> {
    this.check('list');
    return this.server.listFolders();
  }

  async open(path: string, opts: { write?: boolean } = {}): Promise<OpenedFolder> {
    this.check(`open ${path}${opts.write ? ' (write)' : ''}`);
    const f = this.server.folder(path);
    this.selected = f.path;
    this.writable = opts.write === true;
    const condstore = this.server.condstore();
    return {
      uidValidity: f.uidValidity.toString(),
      uidNext: f.uidNext,
      exists: f.messages.size,
      condstore,
      ...(condstore ? { highestModseq: f.highestModseq.toString() } : {}),
    };
  }

  async messagesAfter(uid: number): Promise<MessageMeta[]> {
    this.check(`messagesAfter ${uid}`);
    return [...this.current().messages.values()]
      .filter((m) => m.uid > uid)
      .sort((a, b) => a.uid - b.uid)
      .map(metaOf);
  }

  /** Without QRESYNC: `vanished` is always `null`. */
  async changedSince(modseq: string, maxUid: number): Promise<ChangedSince> {
    this.check(`changedSince ${modseq} ${maxUid}`);
    if (!this.server.condstore()) throw new MailSourceError('server', 'CONDSTORE not supported');
    const since = BigInt(modseq);
    const changed = [...this.current().messages.values()]
      .filter((m) => m.uid <= maxUid && m.modseq > since)
      .sort((a, b) => a.uid - b.uid)
      .map(metaOf);
    return { changed, vanished: null };
  }

  async flagsUpTo(maxUid: number): Promise<UidFlags[]> {
    this.check(`flagsUpTo ${maxUid}`);
    return [...this.current().messages.values()]
      .filter((m) => m.uid <= maxUid)
      .sort((a, b) => a.uid - b.uid)
      .map((m) => ({ uid: m.uid, flags: [...m.flags].sort() }));
  }

  async metasOf(uids: number[]): Promise<MessageMeta[]> {
    this.check(`metasOf ${uids.join(',')}`);
    const f = this.current();
    return [...new Set(uids)]
      .sort((a, b) => a - b)
      .map((u) => f.messages.get(u))
      .filter((m): m is MemMessage => m !== undefined)
      .map(metaOf);
  }

  async uids(): Promise<number[]> {
    this.check('uids');
    return [...this.current().messages.keys()].sort((a, b) => a - b);
  }

  async searchMessageId(messageId: string): Promise<number[]> {
    this.check(`searchMessageId ${messageId}`);
    const want = messageId.toLowerCase();
    return [...this.current().messages.values()]
      .filter((m) =>
        /^message-id:\s*(.*)$/im
          .exec(m.content.toString('latin1').split(/\r?\n\r?\n/)[0])?.[1]
          ?.toLowerCase()
          .includes(want),
      )
      .map((m) => m.uid)
      .sort((a, b) => a - b);
  }

  private writableFolder(call: string): MemFolder {
    this.check(call);
    if (!this.writable) throw new MailSourceError('server', 'Mailbox is read-only');
    return this.current();
  }

  async storeFlags(uids: number[], flags: string[], how: 'add' | 'remove'): Promise<StoredFlags[]> {
    const f = this.writableFolder(`storeFlags ${how} ${flags.join(' ')} ${uids.join(',')}`);
    const out: StoredFlags[] = [];
    for (const u of [...new Set(uids)].sort((a, b) => a - b)) {
      const m = f.messages.get(u);
      if (!m) continue;
      const before = m.modseq;
      if (how === 'add') this.server.addFlags(f.path, u, flags);
      else this.server.removeFlags(f.path, u, flags);
      if (m.modseq !== before) out.push({ uid: u, flags: [...m.flags].sort(), ...(this.server.condstore() ? { modseq: m.modseq.toString() } : {}) });
    }
    return out;
  }

  async expunge(uids: number[]): Promise<void> {
    const f = this.writableFolder(`expunge ${uids.join(',')}`);
    this.server.expunge(f.path, uids);
  }

  async move(uids: number[], dest: string): Promise<Map<number, number>> {
    const f = this.writableFolder(`move ${uids.join(',')} ${dest}`);
    const to = this.server.folder(dest);
    const out = new Map<number, number>();
    for (const u of uids.sort((a, b) => a - b)) {
      const m = f.messages.get(u);
      if (!m) continue;
      const [uid] = this.server.append(to.path, m.content, { flags: [...m.flags], internalDate: m.internalDate });
      out.set(u, uid);
    }
    this.server.expunge(f.path, [...out.keys()]);
    return out;
  }

  async append(path: string, content: Buffer, flags: string[], date: Date): Promise<Appended> {
    this.check(`append ${path}`);
    const f = this.server.folder(path);
    const [uid] = this.server.append(f.path, content, { flags, internalDate: date });
    return { uid, uidValidity: f.uidValidity.toString() };
  }

  async download(uid: number): Promise<Readable | null> {
    this.check(`download ${uid}`);
    const m = this.current().messages.get(uid);
    if (!m) return null;
    this.take();
    // Pieces of 64 KiB, like a streamed download.
    const content = m.content;
    const pieces: Buffer[] = [];
    for (let i = 0; i < content.length; i += 1 << 16) pieces.push(content.subarray(i, i + (1 << 16)));
    return Readable.from(pieces, { objectMode: false });
  }

  async *downloadMany(uids: number[]): AsyncIterable<DownloadedMessage> {
    if (uids.length === 0) return;
    this.check(`downloadMany ${uids.join(',')}`);
    const folder = this.current();
    const msgs = [...new Set(uids)]
      .sort((a, b) => a - b)
      .map((u) => folder.messages.get(u))
      .filter((m): m is MemMessage => m !== undefined);
    this.iterating = true;
    try {
      for (const m of msgs) {
        if (this.state !== 'open') throw new MailSourceError('lost', 'EConnectionClosed');
        this.take();
        yield { uid: m.uid, content: Buffer.from(m.content) };
      }
    } finally {
      this.iterating = false;
    }
  }
}
