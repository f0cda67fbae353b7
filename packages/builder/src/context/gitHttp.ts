import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import { type Dispatcher, request } from 'undici';

/**
 * isomorphic-git's HTTP client over undici, so git contexts trust the same roots as https contexts
 * (its bundled node client has no CA option) and honour `--git insecure-skip-tls=true`.
 */
export function gitHttpClient(dispatcher: Dispatcher): HttpClient {
  return {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      const body = req.body === undefined ? undefined : Buffer.concat(await collect(req.body));
      let url = req.url;
      // Follow redirects by hand: isomorphic-git reads the final URL back from the response.
      for (let hop = 0; ; hop++) {
        const response = await request(url, {
          method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
          headers: req.headers ?? {},
          ...(body === undefined ? {} : { body }),
          dispatcher,
        });
        const location = response.headers.location;
        if (
          response.statusCode >= 300 &&
          response.statusCode < 400 &&
          typeof location === 'string' &&
          hop < 10
        ) {
          await response.body.dump();
          url = new URL(location, url).toString();
          continue;
        }
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        return {
          url,
          method: req.method ?? 'GET',
          headers,
          statusCode: response.statusCode,
          statusMessage: '',
          body: response.body[Symbol.asyncIterator]() as AsyncIterableIterator<Uint8Array>,
        };
      }
    },
  };
}

async function collect(body: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return chunks;
}
