// The `idp` program: global options, command groups, and the mapping of usage errors to exit 2.
// Only commander and chalk load here; every command imports what it needs inside its action.
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { IdpError, isIdpError } from '../core/errors.js';
import { Renderer } from './render.js';
import { registerInit } from './commands/init.js';
import { registerApp } from './commands/app.js';
import { registerConnection } from './commands/connection.js';
import { registerUsers } from './commands/users.js';
import { registerEvents } from './commands/events.js';
import { registerLogin } from './commands/login.js';
import { registerAccount } from './commands/account.js';
import { registerFlows } from './commands/flows.js';
import { registerKeys } from './commands/keys.js';
import { registerPolicy } from './commands/policy.js';
import { registerSandbox } from './commands/sandbox.js';

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command('idp')
    .description('Local sandbox for federated sign-in and Just-in-Time user provisioning')
    .version(version, '-V, --version')
    .option('--home <dir>', 'data directory (default: $IDP_HOME, $XDG_DATA_HOME/idp, ~/.local/share/idp)')
    .option('--json', 'print one JSON document on stdout')
    .option('--no-color', 'no colour (also NO_COLOR)')
    .option('--quiet', 'only results and errors')
    .option('--debug', 'stack traces and causes on errors')
    .showSuggestionAfterError()
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });

  registerInit(program);
  registerLogin(program);
  registerAccount(program);
  registerApp(program);
  registerConnection(program);
  registerUsers(program);
  registerEvents(program);
  registerFlows(program);
  registerSandbox(program);
  registerKeys(program);
  registerPolicy(program);
  return program;
}

async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    const json = process.argv.includes('--json');
    const out = new Renderer({ json, quiet: false, color: !process.argv.includes('--no-color'), debug: process.argv.includes('--debug') });
    if (err instanceof CommanderError) {
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return;
      if (err.code === 'commander.help') {
        process.exitCode = 2; // a group named without a subcommand: help was printed on stderr
        return;
      }
      const message = err.message.replace(/^error:\s*/, '');
      out.error(new IdpError('USAGE', message, 'see `idp --help`, or `idp <command> --help`'));
      process.exitCode = 2;
      return;
    }
    out.error(err);
    process.exitCode = isIdpError(err) ? err.exitCode : 1;
  }
}

await main();
