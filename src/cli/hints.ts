// Words a refusal's remedies (core/fixes.ts) as the `idp ...` command lines (or the flag) that carry them out.
import { hintText, type Fix, type Hint } from '../core/fixes.js';
import { isDatabaseUrl } from '../core/urls.js';

const GROUP: Record<string, string> = { app: 'app', connection: 'connection', user: 'users', org: 'org' };

export function fixCommand(fix: Fix): string {
  switch (fix.kind) {
    case 'set': {
      const value =
        fix.value === undefined
          ? ''
          : fix.value === 'true' || fix.value === 'false'
            ? `=${fix.value}`
            : ` ${fix.value}`;
      const target = `idp ${GROUP[fix.on]} set${fix.on === 'org' ? '' : ` ${fix.name}`}`;
      return fix.setting === undefined ? target : `${target} --${fix.setting}${value}`;
    }
    case 'script-template':
      return `idp app script set ${fix.app} --template ${fix.template}`;
    case 'set-script':
      return `idp app script set ${fix.app} --file FILE`;
    case 'show':
      if (fix.what === 'app-script') return `idp app script show ${fix.name ?? ''}`.trimEnd();
      if (fix.what === 'keys') return 'idp keys jwks';
      if (fix.what === 'events' || fix.what === 'outbox') return `idp ${fix.what}`;
      if (fix.what === 'flows') return 'idp flows list';
      if (fix.what === 'flow') return `idp flows show ${fix.name ?? ''}`.trimEnd();
      return `idp ${GROUP[fix.what] ?? fix.what} show ${fix.name ?? ''}`.trimEnd();
    case 'list':
      if (fix.what === 'script-template') return 'idp app script templates';
      return `idp ${fix.what === 'user' ? 'users' : fix.what === 'flow' ? 'flows' : fix.what} list${fix.search ? ` --search ${fix.search}` : ''}`;
    case 'app-check':
      return `idp app check ${fix.app}`;
    case 'remove-factor':
      return `idp users mfa remove ${fix.user}${fix.factor ? ` ${fix.factor}` : ''}`;
    case 'list-factors':
      return `idp users mfa list ${fix.user}`;
    case 'rotate-secret':
      return `idp app secret rotate ${fix.app}`;
    case 'option':
      return `--${fix.option}${fix.value === undefined ? '' : ` ${fix.value}`}`;
    case 'doctor':
      return 'idp doctor';
    case 'init':
      return 'idp init';
    case 'store-migrate':
      return `idp ${isDatabaseUrl(fix.location) ? '--store' : '--home'} ${fix.location} store migrate`;
  }
}

/** The hint line as the terminal shows it. */
export function renderHint(hint: Hint | null | undefined): string | undefined {
  return hint == null ? undefined : hintText(hint, fixCommand);
}
