// URL rules: redirect URIs and issuers must be absolute http(s) URLs, and plain http is only for loopback hosts.
// Messages name the kind of URL, not a flag, because both flags and policy files go through these rules.
import { IdpError } from './errors.js';

export function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]' || hostname === '::1';
}

function checkedUrl(value: string, what: string, example: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new IdpError('INVALID_VALUE', `the ${what} must be an absolute URL, not '${value}'`, `e.g. ${example}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new IdpError('INVALID_VALUE', `the ${what} must use https (plain http only for localhost/127.0.0.1): '${value}'`, `e.g. ${example}`);
  }
  return url;
}

export function validateRedirectUri(value: string): string {
  const url = checkedUrl(value, 'redirect URI', 'http://localhost:5173/');
  if (url.hash) throw new IdpError('INVALID_VALUE', `the redirect URI must not have a fragment: '${value}'`, 'drop the #... part');
  return value;
}

export function validateIssuer(value: string): string {
  const url = checkedUrl(value, 'issuer', 'https://login.example.com');
  if (url.search || url.hash) throw new IdpError('INVALID_VALUE', `the issuer must not have a query or fragment: '${value}'`, 'use the issuer exactly as its discovery document states it');
  return value;
}
