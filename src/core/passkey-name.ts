// The name a new passkey is offered, as major identity providers suggest one: the browser and the system it was made
// in ("Chrome on Linux"), read from the User-Agent header of the page that makes it.

/** "Chrome on Linux"; the browser or the system alone when only one is known; "Passkey" when neither is. */
export function defaultPasskeyName(userAgent: string | undefined): string {
  const ua = userAgent ?? '';
  const browser = BROWSERS.find(([, pattern]) => pattern.test(ua))?.[0];
  const system = SYSTEMS.find(([, pattern]) => pattern.test(ua))?.[0];
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? 'Passkey';
}

// Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari", Android says "Linux".
const BROWSERS: [string, RegExp][] = [
  ['Edge', /\bEdg\//],
  ['Opera', /\bOPR\//],
  ['Firefox', /\bFirefox\//],
  ['Chrome', /\b(?:Headless)?Chrom(?:e|ium)\//],
  ['Safari', /\bVersion\/[\d.]+.*\bSafari\//],
];
const SYSTEMS: [string, RegExp][] = [
  ['Android', /\bAndroid\b/],
  ['iPhone', /\biPhone\b/],
  ['iPad', /\biPad\b/],
  ['Windows', /\bWindows\b/],
  ['macOS', /\bMac OS X\b/],
  ['ChromeOS', /\bCrOS\b/],
  ['Linux', /\bLinux\b/],
];
