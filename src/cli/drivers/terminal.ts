// The interactive driver: inquirer for choices and credentials, the browser opened only once the loopback server
// listens (the URL is always printed too, even with --quiet), and a spinner while the provider's callback, or a
// passkey step's answer from the loopback server's passkey page, is awaited.
import { IdpError } from '../../core/errors.js';
import type { Connection } from '../../core/types.js';
import { inert, type Renderer } from '../render.js';
import { renderHint } from '../hints.js';
import type { Answerer } from './drive.js';

export interface TerminalOptions {
  out: Renderer;
  browser: boolean;
  username?: string;
  connectionByName: (name: string) => Promise<Connection | undefined>;
  /** Step 1's choice (--connection or --option). */
  preselected?: string;
  /** A later step's choice (--mfa), when that step offers it. */
  mfa?: string;
}

const LOCAL_LABELS: Record<string, string> = {
  password: 'password: username and password',
  'email-otp': 'email-otp: a one-time code sent by email',
  totp: 'totp: a code from an authenticator app',
  passkey: 'passkey: a passkey, in the browser',
};

export function terminalAnswerer(opts: TerminalOptions): Answerer {
  const io = { output: process.stderr };
  const answerer: Answerer = {
    async choose(view) {
      const given = view.step === 1 ? opts.preselected : opts.mfa;
      if (view.retry) opts.out.warn(view.retry.message, renderHint(view.retry.hint));
      else if (given && (view.step === 1 || view.options.includes(given))) return given;
      const { select } = await import('@inquirer/prompts');
      const choices = await Promise.all(
        view.options.map(async (option) => {
          const c = await opts.connectionByName(option);
          return {
            value: option,
            name: c
              ? `${option}: ${c.type}${c.sandbox ? ' (sandbox)' : ''}, JIT ${c.jit.enabled ? 'on' : 'off'}`
              : (LOCAL_LABELS[option] ?? option),
          };
        }),
      );
      return select({ message: `Sign in to ${view.app}: step ${view.step}`, choices }, io);
    },
    async credentials(view) {
      const { input, password } = await import('@inquirer/prompts');
      if (view.retry) opts.out.warn(view.retry.message);
      const username =
        view.retry || !opts.username
          ? await input({ message: 'Username or email', default: opts.username }, io)
          : opts.username;
      return { username, password: await password({ message: 'Password', mask: true }, io) };
    },
    async callback(view, loopback, { timeoutMs, signal }) {
      opts.out.essential(
        `\nOpen this URL to sign in at ${view.provider}${view.sandbox ? ' (sandbox)' : ''}:\n  ${view.url}\n`,
      );
      const waiting = loopback.waitForCallback({ timeoutMs, signal });
      await openBrowser(view.url);
      return spinWhile(
        `waiting for ${view.provider} to redirect to ${loopback.redirectUri} (Ctrl-C to cancel)`,
        waiting,
      );
    },
    async passkey(view, { loopback, timeoutMs, signal }) {
      if (view.retry) opts.out.warn(view.retry.message);
      const prompt = { mode: view.mode, options: view.options, app: view.app, retry: view.retry?.message };
      const ask = await (await loopback()).askPasskey(prompt, { timeoutMs, signal });
      const what = view.mode === 'enrol' ? 'create a passkey (this step needs one you lack)' : 'use your passkey';
      opts.out.essential(`\nOpen this URL to ${what} for ${view.app}:\n  ${ask.url}\n`);
      await openBrowser(ask.url);
      const { response, name } = await spinWhile(
        'waiting for the passkey in the browser (Ctrl-C to cancel)',
        ask.answer,
      );
      return { response, origin: ask.origin, ...(name && { name }) };
    },
    async jitPrompt(view) {
      const { confirm, input, password } = await import('@inquirer/prompts');
      const who = inert([view.proposed.name, view.proposed.email].filter(Boolean).join(', ') || 'this account');
      // A retry means consent was given and the chosen username was taken: only the name and password are asked again.
      if (view.retry) opts.out.warn(view.retry.message);
      const consent =
        view.retry !== undefined ||
        (await confirm({ message: `Create a local account in this organisation for ${who}?`, default: true }, io));
      if (!consent || view.scheme === 'prompt-consent') return { consent };
      const username = await input(
        { message: 'Username for the new account', default: inert(view.proposed.username) },
        io,
      );
      const pass = await password({ message: 'Password for the new account (8+ characters)', mask: true }, io);
      return { consent, username, password: pass };
    },
    async mfa(view) {
      const { input } = await import('@inquirer/prompts');
      if (view.retry) opts.out.warn(view.retry.message);
      if (view.enrol && !view.retry) {
        const { default: qrcode } = await import('qrcode-terminal');
        const qr = await new Promise<string>((resolve) => qrcode.generate(view.enrol!.uri, { small: true }, resolve));
        opts.out.info(
          `No TOTP factor yet: scan this with an authenticator app (or enter the secret ${view.enrol.secret})\n${qr}\n  ${view.enrol.uri}`,
        );
      }
      return input(
        {
          message: `${view.method === 'totp' ? 'Authenticator' : 'Emailed'} code (${view.hint})`,
          validate: (v) => /^\d{6}$/.test(v.trim()) || 'six digits',
        },
        io,
      );
    },
  };
  async function openBrowser(url: string): Promise<void> {
    if (!opts.browser) return;
    const { default: open } = await import('open');
    await open(url).catch(() => opts.out.warn('could not open a browser', 'open the URL above yourself'));
  }

  /** A spinner on stderr until `waiting` settles (the browser's part of the sign-in). */
  async function spinWhile<T>(text: string, waiting: Promise<T>): Promise<T> {
    const { default: ora } = await import('ora');
    // discardStdin would put the terminal in raw mode and rely on a 'data' listener that never starts the stream
    // (stdin-discarder 0.3.2 on Node 20): Ctrl-C would be swallowed until the timeout. Keep the terminal's own SIGINT.
    // ora divides by the terminal's width: with 0 columns (a pty nobody sized, as `script` gives) it redraws forever
    // and blocks the event loop, so neither --timeout nor SIGTERM could end the wait. Such a terminal gets one line,
    // and one resized to 0 columns loses the spinner: stderr updates `columns` and emits 'resize' in one step, so
    // the spinner stops before its next frame.
    const sized = (): boolean => (process.stderr.columns ?? 0) > 0;
    const spinner = ora({
      text,
      stream: process.stderr,
      isEnabled: !opts.out.opts.quiet && sized(),
      isSilent: opts.out.opts.quiet,
      discardStdin: false,
    }).start();
    const onResize = (): void => {
      if (!sized()) spinner.stop();
    };
    process.stderr.on('resize', onResize);
    try {
      return await waiting;
    } finally {
      process.stderr.off('resize', onResize);
      spinner.stop();
    }
  }

  return {
    ...answerer,
    choose: (view) => interruptible(answerer.choose(view)),
    credentials: (view) => interruptible(answerer.credentials(view)),
    jitPrompt: (view) => interruptible(answerer.jitPrompt(view)),
    mfa: (view) => interruptible(answerer.mfa(view)),
  };
}

/** Ctrl-C at a prompt rejects with inquirer's ExitPromptError; as INTERRUPTED it lets drive() end the flow as failed. */
async function interruptible<T>(prompt: Promise<T>): Promise<T> {
  try {
    return await prompt;
  } catch (err) {
    if (err instanceof Error && err.name === 'ExitPromptError')
      throw new IdpError('INTERRUPTED', 'interrupted at a prompt', 'run the login again');
    throw err;
  }
}
