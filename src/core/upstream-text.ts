// Text an upstream sends back (error, error_description, values quoted in a verification failure), made fit to print
// and store by the connectors and the engine's callback check: whatever idp sent it (client secret, code, PKCE
// verifier, tokens, state, nonce) is redacted, so a provider echoing the request leaks nothing, and the text is
// capped. Control characters are the renderer's job (cli/render.ts).

export const MAX_UPSTREAM_TEXT = 300;

const REDACTED = '[redacted]';

/** Secret parameters as form fields (`code=...`) or JSON members (`"code":"..."`), also ones idp did not send itself. */
const SECRET_PARAMS =
  /\b(client_secret|code_verifier|code|refresh_token|access_token|id_token|password|client_assertion)(=|"\s*:\s*")([^&\s"',;]+)/gi;
const CREDENTIALS = /\b(Basic|Bearer)\s+[\w.~+/=-]+/gi;

/** `sent`: the values idp sent in the request the text answers; short or missing ones are ignored. */
export function upstreamText(text: string, sent: readonly (string | null | undefined)[] = []): string {
  let out = text;
  for (const value of sent) {
    if (!value || value.length < 4) continue;
    for (const form of new Set([
      value,
      encodeURIComponent(value),
      new URLSearchParams({ v: value }).toString().slice(2),
    ]))
      out = out.split(form).join(REDACTED);
  }
  out = out
    .replace(SECRET_PARAMS, (_match, name: string, separator: string) => `${name}${separator}${REDACTED}`)
    .replace(CREDENTIALS, `$1 ${REDACTED}`);
  // Capped after redaction, so a cut can never leave part of a secret behind.
  return out.length <= MAX_UPSTREAM_TEXT
    ? out
    : `${out.slice(0, MAX_UPSTREAM_TEXT)}… (${out.length - MAX_UPSTREAM_TEXT} more characters)`;
}
