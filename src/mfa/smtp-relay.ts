// The optional SMTP relay: hands each emailed code, after the outbox has it, to a local mail catcher over plain SMTP
// (RFC 5321: EHLO, MAIL FROM, RCPT TO, DATA, QUIT). No TLS and no password: the relay is loopback-only (core/urls.ts).
import { connect, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { IdpError } from '../core/errors.js';
import type { Mailer, MailMessage } from '../ports.js';

const FROM = 'idp@localhost';
const TIMEOUT_MS = 3000;

/** A Mailer for a URL validateSmtpRelay accepted (`smtp://host:port`). */
export function smtpRelay(target: string, timeoutMs = TIMEOUT_MS): Mailer {
  const { host, port } = relayAddress(target);
  return { target, send: (message) => sendMail(host, port, message, timeoutMs) };
}

/** The host (an IPv6 one without its brackets) and port to connect to for a relay URL. */
export function relayAddress(target: string): { host: string; port: number } {
  const url = new URL(target);
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 25) };
}

async function sendMail(host: string, port: number, message: MailMessage, timeoutMs: number): Promise<void> {
  // A CR or LF in a header would let the message write headers (or SMTP commands) of its own.
  if (/[\r\n]/.test(message.to + message.subject))
    throw new IdpError('INVALID_VALUE', 'a recipient or subject with a line break cannot be mailed');
  const session = await SmtpSession.open(host, port, timeoutMs);
  try {
    await session.expect(220);
    await session.command('EHLO idp.localhost', 250);
    await session.command(`MAIL FROM:<${FROM}>`, 250);
    await session.command(`RCPT TO:<${message.to}>`, 250, 251);
    await session.command('DATA', 354);
    await session.command(`${dotStuffed(formatted(message))}\r\n.`, 250);
    await session.command('QUIT', 221);
  } finally {
    session.close();
  }
}

function formatted(message: MailMessage): string {
  const headers = [
    `From: idp <${FROM}>`,
    `To: <${message.to}>`,
    `Subject: ${message.subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${randomUUID()}@idp.localhost>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
  ];
  return `${headers.join('\r\n')}\r\n\r\n${message.body.replace(/\r?\n/g, '\r\n')}`;
}

/** A line of the message that starts with a dot gets a second one, so it cannot end DATA early (RFC 5321 4.5.2). */
function dotStuffed(text: string): string {
  return text.replace(/^\./gm, '..');
}

/** One connection: commands out, replies (possibly multi-line, `250-...` then `250 ...`) in. */
class SmtpSession {
  private buffer = '';
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.wake();
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('the mail server closed the connection')));
  }

  static open(host: string, port: number, timeoutMs: number): Promise<SmtpSession> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      socket.once('connect', () => resolve(new SmtpSession(socket)));
      socket.once('error', reject);
    });
  }

  async command(line: string, ...accepted: number[]): Promise<void> {
    this.socket.write(`${line}\r\n`);
    await this.expect(...accepted);
  }

  async expect(...accepted: number[]): Promise<void> {
    const reply = await this.reply();
    const code = Number(reply.slice(0, 3));
    if (!accepted.includes(code)) throw new Error(`the mail server answered ${reply.split('\r\n').at(-1)}`);
  }

  close(): void {
    this.socket.destroy();
  }

  private async reply(): Promise<string> {
    for (;;) {
      const end = completeReplyEnd(this.buffer);
      if (end >= 0) {
        const reply = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        return reply;
      }
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }
}

/** Where the first complete reply in `buffer` ends (at its last line's CRLF), or -1: the last line has a space after the code. */
function completeReplyEnd(buffer: string): number {
  let start = 0;
  for (let end = buffer.indexOf('\r\n'); end >= 0; start = end + 2, end = buffer.indexOf('\r\n', start)) {
    if (buffer.charAt(start + 3) !== '-') return end;
  }
  return -1;
}
