import { bucketObject } from './bucketObject.ts';
import { streamToFile } from './streamToFile.ts';

/**
 * Downloads `gs://BUCKET/OBJECT` with Google's client and its application default credentials
 * (`GOOGLE_APPLICATION_CREDENTIALS`, the metadata server), as Kaniko does; `STORAGE_EMULATOR_HOST`
 * points it elsewhere. Imported only for a `gs://` context.
 */
export async function gcsDownload(
  url: string,
  file: string,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<void> {
  const { bucket, key } = bucketObject(url);
  const { Storage } = await import('@google-cloud/storage');
  const object = new Storage().bucket(bucket).file(key);
  await streamToFile(object.createReadStream(), file, url, maxBytes, signal);
}
