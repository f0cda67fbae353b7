import { KilnError } from '@kiln/errors';

/** A URL as it may be shown: user and password removed, query dropped (signed URLs carry tokens there). */
export function displayUrl(text: string): string {
  if (!URL.canParse(text)) return text.replace(/\/\/[^/@]*@/, '//');
  const url = new URL(text);
  url.username = '';
  url.password = '';
  url.search = '';
  return url.toString();
}

/** The one error for a context (or Dockerfile) that could not be fetched: names the URL, never its credentials. */
export function fetchFailed(url: string, reason: string, cause?: unknown): KilnError {
  return new KilnError('CONTEXT_FETCH_FAILED', `cannot fetch ${displayUrl(url)}: ${reason}`, {
    hint: 'check the URL, the credentials in the environment and that the server is reachable',
    ...(cause === undefined ? {} : { cause }),
  });
}
