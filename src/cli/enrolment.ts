// Showing a new TOTP enrolment, for `idp users mfa enroll` and `idp account`: a QR code to scan, the URI and the secret.
import type { CliContext } from './context.js';

/** The otpauth URI as a terminal QR code plus the URI and secret; with --json, {factor, user, secret, uri}. */
export async function printEnrolment(
  ctx: CliContext,
  username: string,
  enrolled: { factor: string; secret: string; uri: string },
): Promise<void> {
  if (ctx.out.opts.json) {
    ctx.out.result({ ...enrolled, user: username }, () => undefined);
    return;
  }
  const { default: qrcode } = await import('qrcode-terminal');
  const qr = await new Promise<string>((resolve) => qrcode.generate(enrolled.uri, { small: true }, resolve));
  ctx.out.result(
    null,
    () =>
      `${qr}\n${enrolled.uri}\nsecret ${enrolled.secret}\nenrolled TOTP for ${username}: scan the QR code or enter the secret in an authenticator app`,
  );
}
