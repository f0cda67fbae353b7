import { rm } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';

export interface AgentProxy {
  close: () => Promise<void>;
}

/**
 * A unix socket at `path` that pipes each connection to the agent at `upstream`. The RUN gets this
 * socket, never the agent's own: its owner and mode are the mount's (BuildKit does the same), and
 * closing it cuts the RUN off from the agent even if something it started lingers.
 */
export async function startAgentProxy(path: string, upstream: string): Promise<AgentProxy> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const agent = createConnection(upstream);
    open.add(client).add(agent);
    const forget = () => {
      open.delete(client);
      open.delete(agent);
      client.destroy();
      agent.destroy();
    };
    client.on('error', forget).on('close', forget);
    agent.on('error', forget).on('close', forget);
    client.pipe(agent).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(path, { force: true });
    },
  };
}
