// A minimal mail catcher for tests (what Mailpit or MailHog are for a person): a real SMTP server on 127.0.0.1 that
// records each session's commands and message, and can be told to refuse a command.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface CaughtMail {
  commands: string[];
  /** The DATA section as received, dot-stuffing included, without the final `.` line. */
  data: string;
}

export interface Catcher {
  url: string;
  mails: CaughtMail[];
  /** Connections accepted so far. */
  connections: () => number;
  close(): Promise<void>;
}

/** `refuse`: a command prefix (e.g. 'RCPT TO') answered with 550. */
export async function smtpCatcher(opts: { refuse?: string } = {}): Promise<Catcher> {
  const mails: CaughtMail[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined); // a client that hangs up mid-session (a doctor's probe) is not the test's failure
    socket.setEncoding('utf8');
    const mail: CaughtMail = { commands: [], data: '' };
    let buffer = '';
    let inData = false;
    socket.write('220 catcher ESMTP ready\r\n');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            mails.push(mail);
            socket.write('250 queued\r\n');
          } else mail.data += `${line}\r\n`;
          continue;
        }
        mail.commands.push(line);
        if (opts.refuse && line.startsWith(opts.refuse)) socket.write('550 5.1.1 refused by the test\r\n');
        else if (line.startsWith('EHLO')) socket.write('250-catcher\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n');
        else if (line === 'DATA') {
          inData = true;
          socket.write('354 go ahead\r\n');
        } else if (line === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    connections: () => connections,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
