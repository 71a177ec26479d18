// Small helpers for normalising upstream profiles into the OIDC claim names of UpstreamProfile.

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Drops absent values (upstreams send null for unset fields), so claims hold only what the upstream said. */
export function withoutEmpty(claims: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(claims).filter(([, value]) => value !== undefined && value !== null && value !== ''),
  );
}
