import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TlsFiles } from '@kiln/fixtures/registry';

/** A server on 127.0.0.1 and its base URL. */
export interface LocalServer {
  url: string;
  host: string;
  close(): Promise<void>;
  /** Requests seen, as `METHOD path`. */
  requests: string[];
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(server: Server, scheme: 'http' | 'https', requests: string[]): Promise<LocalServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  return {
    url: `${scheme}://${host}`,
    host,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function recording(handler: Handler, requests: string[]): Handler {
  return (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handler(req, res);
  };
}

/** Serves files from a map over plain HTTP (`tls` given: HTTPS with that certificate). */
export async function startFileServer(
  files: Record<string, Buffer | string>,
  tls?: TlsFiles,
): Promise<LocalServer> {
  const requests: string[] = [];
  const handler = recording((req, res) => {
    const body = files[new URL(req.url ?? '/', 'http://x').pathname];
    if (body === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': Buffer.byteLength(body) }).end(body);
  }, requests);
  if (tls === undefined) return listen(createHttpServer(handler), 'http', requests);
  const [cert, key] = await Promise.all([readFile(tls.certFile), readFile(tls.keyFile)]);
  return listen(createHttpsServer({ cert, key }, handler), 'https', requests);
}

/**
 * Debian's `git http-backend` (the smart HTTP protocol git's own servers speak) run as a CGI script
 * for each request, serving the bare repositories under `projectRoot` (over HTTPS with `tls`).
 */
export async function startGitHttpServer(
  projectRoot: string,
  options: { credentials?: string[]; tls?: TlsFiles } = {},
): Promise<LocalServer> {
  const requests: string[] = [];
  const allowed = options.credentials?.map((pair) => `Basic ${Buffer.from(pair).toString('base64')}`);
  const handler = recording((req, res) => {
    // With `credentials` (user:password pairs), the repositories need Basic auth, as a private forge.
    if (allowed && !allowed.includes(req.headers.authorization ?? '')) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const child = spawn('/usr/lib/git-core/git-http-backend', [], {
      env: {
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_ADDR: '127.0.0.1',
        ...(req.headers['content-encoding']
          ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] }
          : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(child.stdin);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('close', () => {
      const output = Buffer.concat(chunks);
      const end = output.indexOf('\r\n\r\n');
      const head = output.subarray(0, end).toString('latin1');
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else headers[name] = value;
      }
      res.writeHead(status, headers).end(output.subarray(end + 4));
    });
  }, requests);
  if (options.tls === undefined) return listen(createHttpServer(handler), 'http', requests);
  const [cert, key] = await Promise.all([readFile(options.tls.certFile), readFile(options.tls.keyFile)]);
  return listen(createHttpsServer({ cert, key }, handler), 'https', requests);
}

/**
 * A fake of the one Google Cloud Storage endpoint a `gs://` context uses, the JSON API's media
 * download (`GET [/storage/v1]/b/BUCKET/o/OBJECT?alt=media`), reached through `STORAGE_EMULATOR_HOST`.
 * No real GCS server (or emulator) is available here; everything else answers 404.
 */
export async function startFakeGcs(objects: Record<string, Buffer>): Promise<LocalServer> {
  const requests: string[] = [];
  const handler = recording((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const match = /^(?:\/download)?(?:\/storage\/v1)?\/b\/([^/]+)\/o\/([^/]+)$/.exec(url.pathname);
    const body = match ? objects[`${match[1]}/${decodeURIComponent(match[2]!)}`] : undefined;
    if (req.method !== 'GET' || body === undefined || url.searchParams.get('alt') !== 'media') {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"error":{"code":404,"message":"Not Found"}}');
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
      .end(body);
  }, requests);
  return listen(createHttpServer(handler), 'http', requests);
}
