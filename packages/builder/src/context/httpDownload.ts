import { fetch } from 'undici';
import { displayUrl, fetchFailed } from './contextErrors.ts';
import { contextDispatcher } from './httpClient.ts';
import { streamToFile } from './streamToFile.ts';

/**
 * GETs `url` into `file` (redirects followed, as Go's http.Get does), failing on anything but 200.
 * A `user:password@` in the URL is sent as Basic auth, as Go does, and never shown.
 */
export async function httpDownload(
  url: string,
  file: string,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<void> {
  const target = new URL(url);
  const headers: Record<string, string> = {};
  if (target.username !== '' || target.password !== '') {
    const user = `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`;
    headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  const dispatcher = contextDispatcher();
  try {
    let response: Awaited<ReturnType<typeof fetch>>;
    try {
      response = await fetch(target, {
        dispatcher,
        headers,
        redirect: 'follow',
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      const reason = (cause instanceof Error ? cause.message : String(cause)).replaceAll(
        target.toString(),
        displayUrl(url),
      );
      throw fetchFailed(url, reason, error);
    }
    if (response.status !== 200 || response.body === null) {
      await response.body?.cancel();
      throw fetchFailed(url, `the server answered ${response.status} ${response.statusText}`);
    }
    const length = Number(response.headers.get('content-length'));
    if (Number.isFinite(length) && length > maxBytes) {
      await response.body.cancel();
      throw fetchFailed(url, `${length} bytes is larger than the ${maxBytes}-byte limit`);
    }
    await streamToFile(response.body, file, url, maxBytes, signal);
  } finally {
    await dispatcher.close();
  }
}
