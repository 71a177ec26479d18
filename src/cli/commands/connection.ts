// `idp connection ...`: federated connections (GitHub, Google, any OIDC issuer), their client secrets and JIT settings.
import type { Command } from 'commander';
import * as connections from '../../app/connections.js';
import type { ConnectionSettings, SecretInput } from '../../app/connections.js';
import { requireConnection } from '../../app/lookup.js';
import { connectionView } from '../../app/views.js';
import { IdpError } from '../../core/errors.js';
import type { MfaConflict } from '../../core/signin.js';
import {
  CONNECTION_TYPES,
  JIT_SCHEMES,
  LINKING_POLICIES,
  SYNC_POLICIES,
  TOKEN_AUTH_METHODS,
  type Connection,
  type ConnectionType,
} from '../../core/types.js';
import { action, type CliContext } from '../context.js';
import { fixCommand } from '../hints.js';
import { collectPair, parseBool, parseEnum, parseList } from '../parse.js';
import { formatChanges } from '../views.js';

/** The flags: the use case's settings as commander parses them, the secret still to be read from where they say. */
type SettingOptions = Omit<ConnectionSettings, 'secret'> & { clientSecretEnv?: string; clientSecretStdin?: boolean };

const TOKEN_AUTH_CHOICES = ['auto', ...TOKEN_AUTH_METHODS] as const;

export function registerConnection(program: Command): void {
  const connection = program
    .command('connection')
    .description('manage federated connections and their JIT provisioning');

  connection
    .command('list')
    .description('list connections')
    .addHelpText('after', '\nExample:\n  idp connection list')
    .action(
      action(async (ctx) => {
        const list = await (await ctx.store()).connections.list();
        ctx.out.result({ connections: list.map(connectionView) }, () =>
          ctx.out.table(list, [
            { header: 'NAME', value: (c) => c.name },
            { header: 'TYPE', value: (c) => c.type },
            { header: 'UPSTREAM', value: (c) => (c.sandbox ? 'sandbox' : (c.issuer ?? c.baseUrl ?? 'real')) },
            { header: 'JIT', value: (c) => (c.jit.enabled ? `on (${c.jit.scheme})` : 'off (pass-through)') },
            { header: 'SYNC', value: (c) => c.jit.sync },
            { header: 'LINKING', value: (c) => c.jit.linking },
          ]),
        );
      }),
    );

  connection
    .command('show')
    .argument('<connection>', 'connection name')
    .description('show a connection (the client secret is masked)')
    .addHelpText('after', '\nExample:\n  idp connection show github --json')
    .action(
      action(async (ctx, name: string) => {
        const c = await requireConnection(await ctx.store(), name);
        ctx.out.result(connectionView(c), () => describe(c));
      }),
    );

  addSettingOptions(
    connection
      .command('add')
      .argument('<connection>', 'connection name, e.g. corp')
      .description('add a connection')
      .requiredOption('--type <type>', `one of ${CONNECTION_TYPES.join(', ')}`, parseEnum('--type', CONNECTION_TYPES))
      .option('--sandbox', 'use the bundled local provider instead of the real one')
      .addHelpText(
        'after',
        '\nExamples:\n  idp connection add corp --type oidc --issuer https://login.example.com --client-id X --client-secret-env CORP_SECRET\n  idp connection add spa --type oidc --issuer https://login.example.com --client-id X --token-auth none\n  idp connection add ghe --type github --base-url https://github.example.com --client-id Iv1.X --client-secret-env GHE_SECRET\n  idp connection add gh2 --type github --sandbox',
      ),
  ).action(
    action(async (ctx, name: string, opts: SettingOptions & { type: ConnectionType; sandbox?: boolean }) => {
      const admin = await ctx.admin();
      const input = { ...settingsOf(opts), type: opts.type, sandbox: !!opts.sandbox };
      await connections.checkNewConnection(admin.store, name, input);
      const secret = input.sandbox
        ? undefined
        : await secretInput(ctx, opts, connections.needsSecret(input), input.tokenAuth !== 'none');
      const added = await connections.addConnection(admin, name, { ...input, secret });
      ctx.out.success(`added connection ${name}`);
      const { softwarePasskeyWarning } = await import('../../app/passkeys.js');
      const software = await softwarePasskeyWarning(admin.store);
      if (software) ctx.out.warn(software);
      if (added.secret.kind === 'env' && process.env[added.secret.variable] === undefined) {
        ctx.out.warn(
          `$${added.secret.variable} is not set in this shell`,
          'set it before `idp login` uses this connection',
        );
      }
      ctx.out.result(connectionView(added), () => describe(added));
    }),
  );

  addSettingOptions(
    connection
      .command('set')
      .argument('<connection>', 'connection name')
      .description('change only the given settings (idempotent; prints before -> after)')
      .option('--dry-run', 'print what would change, change nothing')
      .option(
        '--forget-associations',
        'with a new --issuer: delete the links of users to the old issuer (refused without it while there are any)',
      )
      .addHelpText(
        'after',
        '\nExamples:\n  idp connection set github --jit=false\n  idp connection set google --sync preserve-local --linking verified-email\n  idp connection set github --map login=nickname --dry-run\n  idp connection set corp --issuer https://login2.example.com --forget-associations',
      ),
  ).action(
    action(async (ctx, name: string, opts: SettingOptions & { dryRun?: boolean; forgetAssociations?: boolean }) => {
      const admin = await ctx.admin();
      await requireConnection(admin.store, name);
      const secret = opts.clientSecretEnv || opts.clientSecretStdin ? await secretInput(ctx, opts, true) : undefined;
      const { changes, forgotten, before, after, conflicts } = await connections.setConnection(
        admin,
        name,
        { ...settingsOf(opts), secret },
        { dryRun: !!opts.dryRun, forgetAssociations: !!opts.forgetAssociations },
      );
      for (const c of conflicts) warnJitOff(ctx, c);
      if (forgotten)
        ctx.out.warn(
          `${opts.dryRun ? 'would forget' : 'forgot'} ${forgotten} association(s) of ${name}: its users keep their local accounts`,
        );
      ctx.out.result(
        { changed: changes.length > 0, dry_run: !!opts.dryRun, associations_forgotten: forgotten, before, after },
        () => {
          if (changes.length === 0) return `connection ${name}: no change`;
          return `connection ${name}: ${opts.dryRun ? 'would change' : 'changed'}\n${formatChanges(changes)}`;
        },
      );
    }),
  );

  connection
    .command('remove')
    .argument('<connection>', 'connection name')
    .option('--force', 'also remove it from the sign-in steps of the apps that offer it')
    .option('-y, --yes', 'do not ask for confirmation')
    .description('remove a connection and its associations (provisioned users stay)')
    .addHelpText('after', '\nExample:\n  idp connection remove corp --yes')
    .action(
      action(async (ctx, name: string, opts: { force?: boolean; yes?: boolean }) => {
        const admin = await ctx.admin();
        const { associations: users } = await connections.connectionRemoval(admin.store, name, !!opts.force);
        await ctx.confirm(
          `Remove connection ${name}${users ? ` and its ${users} association(s)` : ''}?`,
          opts.yes,
          `remove connection ${name}`,
        );
        const { usedBy } = await connections.removeConnection(admin, name, !!opts.force);
        if (users)
          ctx.out.warn(
            `${users} user(s) provisioned through ${name} keep their local accounts but are no longer linked to it`,
          );
        ctx.out.result(
          { removed: name, associations_removed: users, apps_changed: usedBy.map((a) => a.name) },
          () => `removed connection ${name}`,
        );
      }),
    );
}

function addSettingOptions(command: Command): Command {
  return command
    .option('--jit <bool>', 'JIT provisioning on (true) or pass-through (false)', parseBool('--jit'))
    .option('--jit-scheme <scheme>', JIT_SCHEMES.join(' | '), parseEnum('--jit-scheme', JIT_SCHEMES))
    .option(
      '--sync <policy>',
      `attribute sync on returning logins: ${SYNC_POLICIES.join(' | ')}`,
      parseEnum('--sync', SYNC_POLICIES),
    )
    .option(
      '--linking <policy>',
      `account linking on first login: ${LINKING_POLICIES.join(' | ')}`,
      parseEnum('--linking', LINKING_POLICIES),
    )
    .option(
      '--map <upstream=local>',
      'map an upstream claim to a local attribute (upstream=- ignores the claim, upstream= back to the default); repeatable',
      collectPair('--map'),
    )
    .option('--scopes <list>', 'scopes to request, comma separated', parseList)
    .option('--client-id <id>', 'OAuth client id registered at the provider')
    .option('--client-secret-env <VAR>', 'read the client secret from this environment variable at login time')
    .option('--client-secret-stdin', 'read the client secret from stdin (stored encrypted)')
    .option('--issuer <url>', 'OIDC issuer (types oidc, google)')
    .option(
      '--base-url <url>',
      'GitHub Enterprise Server address, e.g. https://github.example.com (type github; default github.com)',
    )
    .option(
      '--token-auth <method>',
      `token endpoint authentication: ${TOKEN_AUTH_CHOICES.join(' | ')} (auto: from the discovery document; none: a public client with PKCE)`,
      parseEnum('--token-auth', TOKEN_AUTH_CHOICES),
    );
}

/** `prompt`: whether a terminal is asked for an optional secret (a public client, token auth none, is never asked). */
async function secretInput(
  ctx: CliContext,
  opts: SettingOptions,
  required: boolean,
  prompt = true,
): Promise<SecretInput> {
  if (opts.clientSecretEnv && opts.clientSecretStdin)
    throw new IdpError(
      'USAGE',
      'pass either --client-secret-env or --client-secret-stdin, not both',
      'prefer --client-secret-env in CI',
    );
  if (opts.clientSecretEnv) return { kind: 'env', variable: opts.clientSecretEnv };
  if (!opts.clientSecretStdin && !required && !(prompt && ctx.interactive)) return { kind: 'none' };
  const value = await ctx.secret({
    stdin: opts.clientSecretStdin,
    prompt: 'Client secret',
    flags: '--client-secret-env VAR or --client-secret-stdin',
  });
  if (!value) {
    if (required)
      throw new IdpError(
        'SECRET_MISSING',
        'the client secret is empty',
        'pass it with --client-secret-env VAR or --client-secret-stdin',
      );
    return { kind: 'none' };
  }
  return { kind: 'value', value };
}

function settingsOf(opts: SettingOptions): ConnectionSettings {
  const { jit, jitScheme, sync, linking, map, scopes, clientId, issuer, baseUrl, tokenAuth } = opts;
  return { jit, jitScheme, sync, linking, map, scopes, clientId, issuer, baseUrl, tokenAuth };
}

function warnJitOff(ctx: CliContext, c: MfaConflict): void {
  ctx.out.warn(
    `${c.app} offers ${c.connection} in step ${c.step} and requires MFA in step ${c.mfaStep}: with JIT off its ${c.connection} users have no local account to hold a factor, so their logins will fail${c.scripted ? ' (unless its script skips that step)' : ''}`,
    `keep JIT on, or make step ${c.mfaStep} conditional: ${fixCommand({ kind: 'script-template', app: c.app, template: 'skip-mfa-for-federated' })}`,
  );
}

function describe(c: Connection): string {
  const view = connectionView(c);
  return [
    `${c.name} (${c.type}${c.sandbox ? ', sandbox' : ''})`,
    c.type === 'github'
      ? `  base URL       ${c.sandbox ? 'bundled sandbox provider' : (c.baseUrl ?? 'https://github.com')}`
      : `  issuer         ${c.issuer ?? (c.sandbox ? 'bundled sandbox provider' : `default for ${c.type}`)}`,
    `  client id      ${c.clientId}`,
    `  client secret  ${view.client_secret ?? 'none'}`,
    `  token auth     ${c.tokenAuth ?? (c.type === 'github' ? 'auto (client_secret_post)' : 'auto (from the discovery document)')}`,
    `  scopes         ${c.scopes.join(' ')}`,
    `  JIT            ${c.jit.enabled ? 'on' : 'off (pass-through)'}; scheme ${c.jit.scheme}; sync ${c.jit.sync}; linking ${c.jit.linking}`,
    `  attribute map  ${
      Object.keys(c.attributeMap).length
        ? Object.entries(c.attributeMap)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')
        : 'defaults'
    }`,
  ].join('\n');
}
