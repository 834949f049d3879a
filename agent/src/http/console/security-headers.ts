/**
 * The console's Content-Security-Policy: everything from this origin only, no inline script or
 * style, no eval, no framing, no plugins; DOM sinks that take strings as HTML are closed with
 * Trusted Types (the app never needs them). The browser tests fail on any violation, since a
 * violation is a console error.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/** Headers of every console response; the CSP is sent with the HTML document. */
export function consoleHeaders(html: boolean): Record<string, string> {
  const h: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'x-frame-options': 'DENY',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=()',
  };
  if (html) h['content-security-policy'] = CONSOLE_CSP;
  return h;
}
