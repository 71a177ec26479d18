// How a command that threw ends: commander's usage errors and prompt aborts become registry errors, then one error
// line plus its hint goes to stderr and the exit code is the one the registry maps the error's code to.
import type { CommanderError } from 'commander';
import { IdpError, isIdpError } from '../core/errors.js';
import type { Renderer } from './render.js';

export function failCommand(out: Renderer, err: unknown): void {
  const failure = isPromptAbort(err) ? new IdpError('INTERRUPTED', 'interrupted', 'nothing was changed') : err;
  out.error(failure);
  process.exitCode = isIdpError(failure) ? failure.exitCode : 1;
}

/**
 * Keeps commander's error to one line: its "(Did you mean x?)" becomes the hint. An unknown `--option=value` is shown
 * without its value, which may be a secret typed in the wrong place.
 */
export function usageError(err: CommanderError): IdpError {
  const [first = '', ...rest] = err.message.replace(/^error:\s*/, '').split('\n');
  const suggestion = /Did you mean (.+?)\?/.exec(rest.join(' '))?.[1];
  const message = first.replace(/^(unknown option '[^'=]+)=[^']*'/, "$1=...'");
  return new IdpError(
    'USAGE',
    message,
    suggestion ? `did you mean ${suggestion}? (see \`idp --help\`)` : 'see `idp --help`, or `idp <command> --help`',
  );
}

function isPromptAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'ExitPromptError';
}
