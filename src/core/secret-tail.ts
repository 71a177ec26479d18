// The only part of a secret idp ever shows: its last four characters, and only when the secret is long enough that
// four characters give little away (short ones show as `****` alone).
export function secretTail(secret: string): string {
  return secret.length >= 12 ? secret.slice(-4) : '';
}
