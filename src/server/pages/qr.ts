// A QR code as inline SVG, synchronously: qrcode's matrix (QRCode.create) drawn as one path, so a page needs no image
// request and no JavaScript. Used for TOTP enrolment (the otpauth URI).
import QRCode from 'qrcode';
import { escapeHtml } from './layout.js';

/** Quiet zone around the code, in modules (the QR standard asks for 4). */
const MARGIN = 4;

/** An <svg> drawing `text` as a QR code; `label` is its accessible name. */
export function qrSvg(text: string, label = 'QR code'): string {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const { size, data } = modules;
  let path = '';
  for (let row = 0; row < size; row++) {
    // One horizontal run per stretch of dark modules keeps the path short.
    for (let col = 0; col < size; col++) {
      if (!data[row * size + col]) continue;
      const start = col;
      while (col + 1 < size && data[row * size + col + 1]) col++;
      path += `M${start + MARGIN} ${row + MARGIN}h${col - start + 1}v1h-${col - start + 1}z`;
    }
  }
  const box = size + 2 * MARGIN;
  return (
    `<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${box} ${box}" role="img" ` +
    `aria-label="${escapeHtml(label)}" shape-rendering="crispEdges"><rect width="${box}" height="${box}" fill="#fff"/>` +
    `<path fill="#000" d="${path}"/></svg>`
  );
}
