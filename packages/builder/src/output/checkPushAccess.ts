import type { Reference } from '@kiln/image';
import type { RegistryClient } from '@kiln/registry';

/**
 * Fails fast when a destination refuses pushes (bad credentials, no write access), before any
 * base is pulled or RUN executed, as Kaniko does: opens a blob upload and cancels it.
 */
export async function checkPushAccess(client: RegistryClient, destinations: Reference[]): Promise<void> {
  const seen = new Set<string>();
  for (const destination of destinations) {
    const key = `${destination.registry}/${destination.repository}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const target = {
      registry: destination.registry,
      repository: destination.repository,
      actions: 'pull,push',
    };
    const response = await client.sendExpecting(
      {
        ...target,
        method: 'POST',
        url: `/v2/${destination.repository}/blobs/uploads/`,
        operation: 'check push access',
      },
      [202],
    );
    await response.body.dump();
    const header = response.headers.location;
    const location = Array.isArray(header) ? header[0] : header;
    if (location) {
      // Cancelling is a courtesy; registries expire abandoned uploads anyway.
      const cancelled = await client
        .send({ ...target, method: 'DELETE', url: location, operation: 'cancel upload' })
        .catch(() => undefined);
      await cancelled?.body.dump();
    }
  }
}
