// Secrets never reach a log line: credentials inside URLs (redis://user:pw@host, kafka SASL URLs)
// are masked wherever a string is logged, and fields with secret-looking names are censored by pino.

export const CENSOR = '***';

/** pino `redact` paths: fields with these names, at the top level or one level down. */
export const REDACT_PATHS = ['password', 'passwd', 'secret', 'token', 'authorization', 'apiKey', 'sasl'].flatMap(
  (k) => [k, `*.${k}`],
);

// scheme://user:password@  →  scheme://user:***@ (the user is kept: it helps and is not a secret).
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi;

/** The string with the password of every URL in it masked; cheap when there is none. */
export function redactUrls(text: string): string {
  if (!text.includes('@')) return text;
  return text.replace(URL_CREDENTIALS, `$1${CENSOR}@`);
}
