import { bucketObject } from './bucketObject.ts';
import { fetchFailed } from './contextErrors.ts';
import { streamToFile } from './streamToFile.ts';

/**
 * Downloads `s3://BUCKET/KEY` as Kaniko does: the AWS SDK's default credential chain and region,
 * `S3_ENDPOINT` for an S3-compatible server and `S3_FORCE_PATH_STYLE=true` for path-style URLs. The SDK
 * is imported only here, so a build from a directory never loads it.
 */
export async function s3Download(
  url: string,
  file: string,
  maxBytes: number,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<void> {
  const { bucket, key } = bucketObject(url);
  const sdk = await import('@aws-sdk/client-s3');
  // The SDK is CommonJS: bundled into the ESM CLI, its exports arrive as the default export.
  const { S3Client, GetObjectCommand } = 'S3Client' in sdk ? sdk : (sdk as { default: typeof sdk }).default;
  const endpoint = env.S3_ENDPOINT || undefined;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  const client = new S3Client({
    ...(endpoint ? { endpoint, forcePathStyle: env.S3_FORCE_PATH_STYLE?.toLowerCase() === 'true' } : {}),
    // Kaniko's Go SDK accepts no region with a custom endpoint; the JS SDK needs one to sign.
    ...(region ? {} : { region: 'us-east-1' }),
  });
  try {
    let body: GetObjectCommandOutput['Body'];
    let length: number | undefined;
    try {
      const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
        ...(signal ? { abortSignal: signal } : {}),
      });
      body = answer.Body;
      length = answer.ContentLength;
    } catch (error) {
      throw fetchFailed(url, s3Reason(error), error);
    }
    if (body === undefined) throw fetchFailed(url, 'the object has no body');
    if (length !== undefined && length > maxBytes) {
      (body as { destroy?: () => void }).destroy?.();
      throw fetchFailed(url, `${length} bytes is larger than the ${maxBytes}-byte limit`);
    }
    await streamToFile(body as NodeJS.ReadableStream, file, url, maxBytes, signal);
  } finally {
    client.destroy();
  }
}

type GetObjectCommandOutput = import('@aws-sdk/client-s3').GetObjectCommandOutput;

function s3Reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === undefined ? `${error.name}: ${error.message}` : `${error.name} (HTTP ${status})`;
}
