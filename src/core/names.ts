// The shape of an app or connection name: one rule for every way one is named (commands, policy and scenario files).

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/i;

/** How a valid name is described in refusals. */
export const NAME_RULE = 'letters, digits, - and _, up to 63';

export function validName(value: string): boolean {
  return NAME.test(value);
}
