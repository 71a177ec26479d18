// `idp keys jwks`: the org's public signing keys, to verify the ID tokens idp issues to apps.
import type { Command } from 'commander';
import { action } from '../context.js';

export function registerKeys(program: Command): void {
  program
    .command('keys')
    .description('the org signing keys')
    .command('jwks')
    .description('print the public keys (JWKS) that verify ID tokens issued to apps')
    .addHelpText('after', '\nExample:\n  idp keys jwks > jwks.json')
    .action(
      action(async (ctx) => {
        const { orgJwks } = await import('../../app/org.js');
        process.stdout.write(`${JSON.stringify(await orgJwks(await ctx.store()), null, 2)}\n`);
      }),
    );
}
