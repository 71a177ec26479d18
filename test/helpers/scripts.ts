// The shipped skip-MFA template's text, for tests that store it directly or compare against it.
import { SCRIPT_TEMPLATES } from '../../src/core/script-templates.js';

export const SKIP_MFA_SCRIPT = SCRIPT_TEMPLATES.find((t) => t.name === 'skip-mfa-for-federated')!.source;
