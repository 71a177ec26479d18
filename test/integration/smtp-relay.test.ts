// The SMTP relay against a real SMTP server on 127.0.0.1 (the test's mail catcher): the dialogue, the message, dot
// stuffing, a refusal, nobody listening, and a header that would inject lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smtpRelay } from '../../src/mfa/smtp-relay.js';
import { smtpCatcher } from '../helpers/smtp-catcher.js';

const MAIL = {
  to: 'alice@example.com',
  subject: 'Your thrift sign-in code',
  body: 'Your code is 123456.\n.a line that starts with a dot\nbye',
};

test('a message goes through EHLO, MAIL FROM, RCPT TO, DATA and QUIT, with headers and a dot-stuffed body', async (t) => {
  const catcher = await smtpCatcher();
  t.after(() => catcher.close());
  await smtpRelay(catcher.url).send(MAIL);
  assert.equal(catcher.mails.length, 1);
  const [mail] = catcher.mails;
  assert.deepEqual(mail!.commands, [
    'EHLO idp.localhost',
    'MAIL FROM:<idp@localhost>',
    'RCPT TO:<alice@example.com>',
    'DATA',
    'QUIT',
  ]);
  const [headers, body] = mail!.data.split('\r\n\r\n');
  assert.match(
    headers!,
    /^From: idp <idp@localhost>\r\nTo: <alice@example\.com>\r\nSubject: Your thrift sign-in code\r\nDate: .+\r\nMessage-ID: <.+@idp\.localhost>\r\n/,
  );
  assert.equal(
    body,
    'Your code is 123456.\r\n..a line that starts with a dot\r\nbye\r\n',
    'a leading dot is doubled so it cannot end DATA',
  );
});

test('a refused recipient, or nobody listening, rejects with the reason', async (t) => {
  const catcher = await smtpCatcher({ refuse: 'RCPT TO' });
  t.after(() => catcher.close());
  await assert.rejects(smtpRelay(catcher.url).send(MAIL), /the mail server answered 550 5\.1\.1 refused by the test/);
  assert.equal(catcher.mails.length, 0);

  const closed = await smtpCatcher();
  await closed.close();
  await assert.rejects(smtpRelay(closed.url).send(MAIL), /ECONNREFUSED/);
});

test('a recipient or subject with a line break is refused before any connection', async (t) => {
  const catcher = await smtpCatcher();
  t.after(() => catcher.close());
  await assert.rejects(
    smtpRelay(catcher.url).send({ ...MAIL, to: 'alice@example.com>\r\nRCPT TO:<eve@example.com' }),
    /line break/,
  );
  await assert.rejects(smtpRelay(catcher.url).send({ ...MAIL, subject: 'hi\r\nBcc: eve@example.com' }), /line break/);
  assert.equal(catcher.connections(), 0);
});
