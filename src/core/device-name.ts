// The name a passkey page suggests for a new passkey, as major identity providers do: the browser and the system it
// is made in ("Chrome on Linux"), read from the User-Agent header of the request for the page.

/** "Chrome on Linux"; the browser or the system alone when only one is known; undefined when neither is. */
export function deviceName(userAgent: string | undefined): string | undefined {
  const ua = userAgent ?? '';
  const browser = BROWSERS.find(([, pattern]) => pattern.test(ua))?.[0];
  const system = SYSTEMS.find(([, pattern]) => pattern.test(ua))?.[0];
  return browser && system ? `${browser} on ${system}` : (browser ?? system);
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
