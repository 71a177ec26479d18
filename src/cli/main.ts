// The `idp` program: global options, the table of commands, and the mapping of usage errors to exit 2.
// Only commander loads up front (not even that for a bare --version): the module of the command named on the command
// line is imported on demand (every one only for help or an unknown name), and each command imports what it needs
// inside its action.
import type { Command } from 'commander';
import { createRequire } from 'node:module';

type Loader = () => Promise<(program: Command) => void>;

// Modules that register more than one top-level command.
const users: Loader = async () => (await import('./commands/users.js')).registerUsers;
const policy: Loader = async () => (await import('./commands/policy.js')).registerPolicy;

/** Top-level command -> the module that registers it, in help order. A new command is one line here. */
const COMMANDS = new Map<string, Loader>([
  ['init', async () => (await import('./commands/init.js')).registerInit],
  ['org', async () => (await import('./commands/org.js')).registerOrg],
  ['login', async () => (await import('./commands/login.js')).registerLogin],
  ['account', async () => (await import('./commands/account.js')).registerAccount],
  ['app', async () => (await import('./commands/app.js')).registerApp],
  ['connection', async () => (await import('./commands/connection.js')).registerConnection],
  ['users', users],
  ['outbox', users],
  ['events', async () => (await import('./commands/events.js')).registerEvents],
  ['flows', async () => (await import('./commands/flows.js')).registerFlows],
  ['sandbox', async () => (await import('./commands/sandbox.js')).registerSandbox],
  ['keys', async () => (await import('./commands/keys.js')).registerKeys],
  ['export', policy],
  ['apply', policy],
  ['check', async () => (await import('./commands/check.js')).registerCheck],
  ['explain', async () => (await import('./commands/explain.js')).registerExplain],
  ['serve', async () => (await import('./commands/serve.js')).registerServe],
  ['doctor', async () => (await import('./commands/doctor.js')).registerDoctor],
  ['store', async () => (await import('./commands/store.js')).registerStore],
]);

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

/** The first argument that is not a global option (nor the value of --home or --store): the command asked for. */
function commandName(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--home' || arg === '--store') i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/** The modules these arguments need: the named command's, none for a bare --version, else all (help, "did you mean"). */
function loadersFor(args: string[]): Loader[] {
  const name = commandName(args);
  const named = name === undefined ? undefined : COMMANDS.get(name);
  if (named) return [named];
  if (name === undefined && args.some((a) => a === '-V' || a === '--version')) return [];
  return [...new Set(COMMANDS.values())];
}

export async function buildProgram(args: string[]): Promise<Command> {
  // Commander and the command's module load together: one round of the ESM loader rather than two in turn.
  const [{ Command }, registers] = await Promise.all([
    import('commander'),
    Promise.all(loadersFor(args).map((load) => load())),
  ]);
  const program = new Command('idp')
    .description('Local sandbox for federated sign-in and Just-in-Time user provisioning')
    .version(version, '-V, --version')
    .option('--home <dir>', 'data directory (default: $IDP_HOME, $XDG_DATA_HOME/idp, ~/.local/share/idp)')
    .option('--store <url>', 'the org in PostgreSQL: postgres://USER@HOST:PORT/DB, no password (default: $IDP_STORE)')
    .option('--store-password-stdin', "read the database role's password from stdin (else PGPASSWORD or ~/.pgpass)")
    .option('--json', 'print one JSON document on stdout')
    .option('--no-color', 'no colour (also NO_COLOR)')
    .option('--quiet', 'only results and errors')
    .option('--debug', 'stack traces and causes on errors')
    .showSuggestionAfterError()
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });

  for (const register of registers) register(program);
  return program;
}

async function main(args: string[]): Promise<void> {
  // Answered before commander loads: scripts and CI jobs probe for idp with it.
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write(`${version}\n`);
    return;
  }
  try {
    const program = await buildProgram(args);
    await program.parseAsync(process.argv);
  } catch (err) {
    const { CommanderError } = await import('commander');
    if (err instanceof CommanderError) {
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return;
      if (err.code === 'commander.help') {
        process.exitCode = 2; // a group named without a subcommand: help was printed on stderr
        return;
      }
    }
    const [{ Renderer }, { failCommand, usageError }] = await Promise.all([
      import('./render.js'),
      import('./failure.js'),
    ]);
    const out = await Renderer.forProcess({
      json: process.argv.includes('--json'),
      quiet: false,
      color: !process.argv.includes('--no-color'),
      debug: process.argv.includes('--debug'),
    });
    // idp serve's --json output is JSON lines, a refused option included.
    if (commandName(args) === 'serve') out.streamLines();
    failCommand(out, err instanceof CommanderError ? usageError(err) : err);
  }
}

// A closed pipe (`idp --help | head`) is the reader saying it has read enough, not a failure.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

await main(process.argv.slice(2));

// The command is done and has closed what it opened; exit once stdout has flushed rather than wait ~50 ms for
// closed sockets and servers to finish tearing down.
process.stdout.write('', () => process.exit());
