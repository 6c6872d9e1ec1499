/**
 * Credential masking, in one place: in free text (error messages, log lines), for passwords the
 * command knows, and in a connection URL shown to a person. Every mask is `***`.
 *
 * @module
 */

const MASK = '***';

/** Masks the password of any URL with credentials, and `password=…` pairs, in a text. */
export function redactSecrets(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):([^@\s]*)@/gi, `$1:${MASK}@`)
    .replace(/(password\s*=\s*)("[^"]*"|'[^']*'|\S+)/gi, `$1${MASK}`);
}

/** {@link redactSecrets}, then every occurrence of each of `secrets` (passwords known to the caller). */
export function redactKnownSecrets(text: string, secrets: Iterable<string>): string {
  let out = redactSecrets(text);
  for (const secret of secrets) out = out.split(secret).join(MASK);
  return out;
}

/** A URL with its password (in the user info or a `password` parameter) shown as `***`. */
export function maskUrlPassword(url: URL): string {
  const shown = new URL(url.toString());
  if (shown.password !== '') shown.password = MASK;
  if (shown.searchParams.has('password')) shown.searchParams.set('password', MASK);
  return shown.toString().replace('%2A%2A%2A', MASK);
}
