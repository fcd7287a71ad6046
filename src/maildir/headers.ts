/**
 * Reading a message's headers for people (`log`), never trusting the bytes: only the
 * first 64 KiB are parsed, and anything mailparser cannot make sense of gives `null`
 * fields instead of an error.
 */
import { simpleParser } from 'mailparser';

/** The headers `log` shows. */
export interface MessageHeaders {
  subject: string | null;
  from: string | null;
  date: string | null;
  messageId: string | null;
}

const LIMIT = 64 * 1024;

function headerPart(raw: Uint8Array): Buffer {
  const buf = Buffer.from(raw.subarray(0, LIMIT));
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  const ends = [crlf, lf].filter((i) => i >= 0);
  return ends.length ? buf.subarray(0, Math.min(...ends)) : buf;
}

/** Parses the headers of a raw message; malformed or missing headers give null fields. */
export async function readHeaders(raw: Uint8Array): Promise<MessageHeaders> {
  const none: MessageHeaders = { subject: null, from: null, date: null, messageId: null };
  try {
    const mail = await simpleParser(Buffer.concat([headerPart(raw), Buffer.from('\r\n\r\n')]), {
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipImageLinks: true,
      skipTextLinks: true,
    });
    const date = mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date.toISOString() : null;
    return { subject: mail.subject ?? null, from: mail.from?.text ?? null, date, messageId: mail.messageId ?? null };
  } catch {
    return none;
  }
}
