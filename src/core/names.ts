// The shape of names: apps and connections (commands, policy and scenario files), and the organisation (a URL segment).

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/i;

/** How a valid name is described in refusals. */
export const NAME_RULE = 'letters, digits, - and _, up to 63';

export function validName(value: string): boolean {
  return NAME.test(value);
}

/** The organisation's name: a path segment of every URL `idp serve` answers on (/t/<org>/...), so lower case only. */
const ORG_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const ORG_NAME_RULE = 'lower-case letters, digits and -, starting with a letter or digit, up to 63';

/** An organisation that was never named (created before names existed, or by `idp init` without one). */
export const DEFAULT_ORG_NAME = 'default';

export function validOrgName(value: string): boolean {
  return ORG_NAME.test(value);
}
