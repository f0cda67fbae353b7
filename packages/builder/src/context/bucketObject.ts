import { KilnError } from '@kiln/errors';

/** `s3://bucket/path/ctx.tar.gz` → bucket and key, as Kaniko's `GetNameAndFilepathFromURI` splits them. */
export function bucketObject(url: string): { bucket: string; key: string } {
  const rest = url.replace(/^[a-z0-9]+:\/\//i, '');
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  // Kaniko's default object name when only a bucket is given.
  const key = slash < 0 || slash === rest.length - 1 ? 'context.tar.gz' : rest.slice(slash + 1);
  if (bucket === '') {
    throw new KilnError('CONTEXT_INVALID', `--context ${url}: no bucket name`, {
      hint: 'write s3://BUCKET/path/context.tar.gz or gs://BUCKET/path/context.tar.gz',
      exitCode: 2,
    });
  }
  return { bucket, key };
}
