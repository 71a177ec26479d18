// `idp connection ...`: federated connections (GitHub, Google, any OIDC issuer), their client secrets and JIT settings.
import type { Command } from 'commander';
import { defaultJit, defaultScopes } from '../../core/connection-defaults.js';
import { IdpError } from '../../core/errors.js';
import { validName } from '../../core/names.js';
import { effectiveSteps, mfaConflicts } from '../../core/signin.js';
import {
  CONNECTION_TYPES,
  JIT_SCHEMES,
  LINKING_POLICIES,
  SYNC_POLICIES,
  type Connection,
  type ConnectionType,
  type JitSettings,
} from '../../core/types.js';
import { validateIssuer } from '../../core/urls.js';
import { secretTail } from '../../core/secret-tail.js';
import type { SecretInput } from '../../store/connections.js';
import type { Store } from '../../store/store.js';
import { action, type CliContext } from '../context.js';
import { diff, formatChanges } from '../diff.js';
import { requireConnection } from '../lookup.js';
import { collectPair, parseBool, parseEnum, parseList } from '../parse.js';
import { connectionView, maskSecret } from '../views.js';

interface SettingOptions {
  jit?: boolean;
  jitScheme?: JitSettings['scheme'];
  sync?: JitSettings['sync'];
  linking?: JitSettings['linking'];
  map?: [string, string][];
  scopes?: string[];
  clientId?: string;
  clientSecretEnv?: string;
  clientSecretStdin?: boolean;
  issuer?: string;
}

export function registerConnection(program: Command): void {
  const connection = program.command('connection').description('manage federated connections and their JIT provisioning');

  connection
    .command('list')
    .description('list connections')
    .addHelpText('after', '\nExample:\n  idp connection list')
    .action(
      action(async (ctx) => {
        const connections = (await ctx.store()).connections.list();
        ctx.out.result({ connections: connections.map(connectionView) }, () =>
          ctx.out.table(connections, [
            { header: 'NAME', value: (c) => c.name },
            { header: 'TYPE', value: (c) => c.type },
            { header: 'UPSTREAM', value: (c) => (c.sandbox ? 'sandbox' : (c.issuer ?? 'real')) },
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
        const c = requireConnection(await ctx.store(), name);
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
        '\nExamples:\n  idp connection add corp --type oidc --issuer https://login.example.com --client-id X --client-secret-env CORP_SECRET\n  idp connection add gh2 --type github --sandbox',
      ),
  ).action(
    action(async (ctx, name: string, opts: SettingOptions & { type: ConnectionType; sandbox?: boolean }) => {
      const store = await ctx.store();
      if (!validName(name)) {
        throw new IdpError('INVALID_VALUE', `'${name}' is not a valid connection name`, 'use letters, digits, - and _ (up to 63), e.g. corp');
      }
      if (['password', 'email-otp', 'totp', 'LOCAL'].includes(name)) {
        throw new IdpError('INVALID_VALUE', `'${name}' is reserved for a local sign-in option`, 'choose another name, e.g. corp');
      }
      if (store.connections.get(name)) throw new IdpError('CONNECTION_EXISTS', `a connection named '${name}' already exists`, `change it with \`idp connection set ${name}\``);
      const sandbox = !!opts.sandbox;
      if (!sandbox && !opts.clientId) throw new IdpError('USAGE', `--client-id is needed for a real ${opts.type} connection`, 'pass --client-id, or --sandbox to use the bundled provider');
      if (opts.type === 'oidc' && !sandbox && !opts.issuer) throw new IdpError('USAGE', 'an oidc connection needs --issuer', 'e.g. --issuer https://login.example.com');
      const record = {
        name,
        type: opts.type,
        sandbox,
        issuer: opts.issuer ? validateIssuer(opts.issuer) : null,
        clientId: opts.clientId ?? `sandbox-${name}`,
        secret: sandbox ? await sandboxSecret() : await secretInput(ctx, opts, opts.type !== 'oidc'),
        scopes: opts.scopes ?? defaultScopes(opts.type),
        jit: applyJit(defaultJit(), opts),
        attributeMap: applyMap({}, opts.map),
      };
      store.tx(() => {
        store.connections.insert(record);
        store.events.recordConfig({
          actor: ctx.actor,
          action: 'connection.add',
          target: `connection ${name}`,
          detail: `added ${opts.type} connection ${name}`,
          before: null,
          after: connectionView(store.connections.get(name)!),
        });
      });
      const added = store.connections.get(name)!;
      ctx.out.success(`added connection ${name}`);
      if (added.secret.kind === 'env' && process.env[added.secret.variable] === undefined) {
        ctx.out.warn(`$${added.secret.variable} is not set in this shell`, 'set it before `idp login` uses this connection');
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
      .addHelpText(
        'after',
        '\nExamples:\n  idp connection set github --jit=false\n  idp connection set google --sync preserve-local --linking verified-email\n  idp connection set github --map login=nickname --dry-run',
      ),
  ).action(
    action(async (ctx, name: string, opts: SettingOptions & { dryRun?: boolean }) => {
      const store = await ctx.store();
      const current = requireConnection(store, name);
      const secret = opts.clientSecretEnv || opts.clientSecretStdin ? await secretInput(ctx, opts, true) : undefined;
      const patch = {
        jit: applyJit(current.jit, opts),
        attributeMap: applyMap(current.attributeMap, opts.map),
        scopes: opts.scopes ?? current.scopes,
        clientId: opts.clientId ?? current.clientId,
        issuer: opts.issuer ? validateIssuer(opts.issuer) : current.issuer,
      };
      const before = connectionView(current);
      const after = { ...connectionView({ ...current, ...patch }), client_secret: secret ? maskSecret(previewSecret(secret)) : before.client_secret };
      // A new secret value always counts as a change, even if its masked form looks the same.
      const changes = diff(before, after).concat(secret?.kind === 'value' && before.client_secret === after.client_secret ? [{ path: 'client_secret', before: before.client_secret, after: after.client_secret }] : []);
      if (changes.length > 0 && !opts.dryRun) {
        store.tx(() => {
          store.connections.update(name, secret ? { ...patch, secret } : patch);
          store.events.recordConfig({ actor: ctx.actor, action: 'connection.set', target: `connection ${name}`, detail: describeChanges(name, changes), before, after });
        });
      }
      if (current.jit.enabled && !patch.jit.enabled) warnConflicts(ctx, store, name);
      ctx.out.result({ changed: changes.length > 0, dry_run: !!opts.dryRun, before, after }, () => {
        if (changes.length === 0) return `connection ${name}: no change`;
        return `connection ${name}: ${opts.dryRun ? 'would change' : 'changed'}\n${formatChanges(changes)}`;
      });
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
        const store = await ctx.store();
        const current = requireConnection(store, name);
        const users = store.associations.countForConnection(name);
        const usedBy = store.apps.list().filter((a) => a.steps.some((s) => s.includes(name)));
        if (usedBy.length > 0 && !opts.force) {
          throw new IdpError(
            'CONNECTION_IN_USE',
            `connection ${name} is offered by ${usedBy.map((a) => a.name).join(', ')}`,
            `remove it from their steps (idp app set <app> --step N=...), or pass --force to do that here`,
          );
        }
        const stepLoss = usedBy.find((a) => a.steps.some((s) => s.length === 1 && s[0] === name) && a.steps[0]!.length === 1);
        if (stepLoss) throw new IdpError('CONNECTION_IN_USE', `connection ${name} is the only option of step 1 of ${stepLoss.name}`, `give ${stepLoss.name} another option first: idp app set ${stepLoss.name} --step 1=password`);
        await ctx.confirm(`Remove connection ${name}${users ? ` and its ${users} association(s)` : ''}?`, opts.yes, `remove connection ${name}`);
        store.tx(() => {
          for (const app of usedBy) {
            store.apps.update(app.name, { steps: app.steps.map((s) => s.filter((o) => o !== name)).filter((s) => s.length > 0) });
          }
          store.connections.delete(name);
          store.events.recordConfig({ actor: ctx.actor, action: 'connection.remove', target: `connection ${name}`, detail: `removed connection ${name}`, before: connectionView(current), after: null });
        });
        if (users) ctx.out.warn(`${users} user(s) provisioned through ${name} keep their local accounts but are no longer linked to it`);
        ctx.out.result({ removed: name, associations_removed: users, apps_changed: usedBy.map((a) => a.name) }, () => `removed connection ${name}`);
      }),
    );
}

function addSettingOptions(command: Command): Command {
  return command
    .option('--jit <bool>', 'JIT provisioning on (true) or pass-through (false)', parseBool('--jit'))
    .option('--jit-scheme <scheme>', JIT_SCHEMES.join(' | '), parseEnum('--jit-scheme', JIT_SCHEMES))
    .option('--sync <policy>', `attribute sync on returning logins: ${SYNC_POLICIES.join(' | ')}`, parseEnum('--sync', SYNC_POLICIES))
    .option('--linking <policy>', `account linking on first login: ${LINKING_POLICIES.join(' | ')}`, parseEnum('--linking', LINKING_POLICIES))
    .option('--map <upstream=local>', 'map an upstream claim to a local attribute (upstream=- ignores the claim, upstream= back to the default); repeatable', collectPair('--map'))
    .option('--scopes <list>', 'scopes to request, comma separated', parseList)
    .option('--client-id <id>', 'OAuth client id registered at the provider')
    .option('--client-secret-env <VAR>', 'read the client secret from this environment variable at login time')
    .option('--client-secret-stdin', 'read the client secret from stdin (stored encrypted)')
    .option('--issuer <url>', 'OIDC issuer (type oidc)');
}

function applyJit(current: JitSettings, opts: SettingOptions): JitSettings {
  return {
    enabled: opts.jit ?? current.enabled,
    scheme: opts.jitScheme ?? current.scheme,
    sync: opts.sync ?? current.sync,
    linking: opts.linking ?? current.linking,
  };
}

function applyMap(current: Record<string, string>, edits: [string, string][] | undefined): Record<string, string> {
  const next = { ...current };
  for (const [upstream, local] of edits ?? []) {
    if (local) next[upstream] = local;
    else delete next[upstream];
  }
  return next;
}

async function sandboxSecret(): Promise<SecretInput> {
  const { randomBytes } = await import('node:crypto');
  return { kind: 'value', value: randomBytes(20).toString('hex') };
}

async function secretInput(ctx: CliContext, opts: SettingOptions, required: boolean): Promise<SecretInput> {
  if (opts.clientSecretEnv && opts.clientSecretStdin) throw new IdpError('USAGE', 'pass either --client-secret-env or --client-secret-stdin, not both', 'prefer --client-secret-env in CI');
  if (opts.clientSecretEnv) {
    // Not echoed: what was given instead of a name is often the secret itself.
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(opts.clientSecretEnv)) throw new IdpError('INVALID_VALUE', '--client-secret-env takes the name of an environment variable (letters, digits, _), not its value', 'e.g. --client-secret-env CORP_SECRET');
    return { kind: 'env', variable: opts.clientSecretEnv };
  }
  if (!opts.clientSecretStdin && !required && !ctx.interactive) return { kind: 'none' };
  const value = await ctx.secret({ stdin: opts.clientSecretStdin, prompt: 'Client secret', flags: '--client-secret-env VAR or --client-secret-stdin' });
  if (!value) {
    if (required) throw new IdpError('SECRET_MISSING', 'the client secret is empty', 'pass it with --client-secret-env VAR or --client-secret-stdin');
    return { kind: 'none' };
  }
  return { kind: 'value', value };
}

/** The masked form a new secret will have, for before -> after output, without storing anything. */
function previewSecret(secret: SecretInput): Connection['secret'] {
  if (secret.kind === 'value') return { kind: 'stored', last4: secretTail(secret.value) };
  return secret;
}

function describeChanges(name: string, changes: { path: string; before: unknown; after: unknown }[]): string {
  return changes
    .map((c) => (c.path === 'jit.enabled' ? `JIT turned ${c.after ? 'on' : 'off'} on ${name}` : `${c.path} ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`))
    .join('; ');
}

function warnConflicts(ctx: CliContext, store: Store, name: string): void {
  const connections = store.connections.list().map((c) => (c.name === name ? { ...c, jit: { ...c.jit, enabled: false } } : c));
  const names = connections.map((c) => c.name);
  const apps = store.apps.list().map((a) => ({ ...a, steps: effectiveSteps(a, names) }));
  for (const c of mfaConflicts(apps, connections).filter((x) => x.connection === name)) {
    ctx.out.warn(
      `${c.app} offers ${name} in step ${c.step} and requires MFA in step ${c.mfaStep}: with JIT off its ${name} users have no local account to hold a factor, so their logins will fail${c.scripted ? ' (unless its script skips that step)' : ''}`,
      `keep JIT on, or make step ${c.mfaStep} conditional: idp app script set ${c.app} --file skip-mfa-for-federated.js`,
    );
  }
}

function describe(c: Connection): string {
  const view = connectionView(c);
  return [
    `${c.name} (${c.type}${c.sandbox ? ', sandbox' : ''})`,
    `  issuer         ${c.issuer ?? (c.sandbox ? 'bundled sandbox provider' : 'default for ' + c.type)}`,
    `  client id      ${c.clientId}`,
    `  client secret  ${view.client_secret ?? 'none'}`,
    `  scopes         ${c.scopes.join(' ')}`,
    `  JIT            ${c.jit.enabled ? 'on' : 'off (pass-through)'}; scheme ${c.jit.scheme}; sync ${c.jit.sync}; linking ${c.jit.linking}`,
    `  attribute map  ${Object.keys(c.attributeMap).length ? Object.entries(c.attributeMap).map(([k, v]) => `${k}=${v}`).join(', ') : 'defaults'}`,
  ].join('\n');
}
