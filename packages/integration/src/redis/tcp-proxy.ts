/**
 * A TCP proxy for the failover tests: the load balancer in front of the nodes. It sends each new
 * connection to the next of its targets in turn (round-robin), can move to another target (a
 * failover), can cut every open connection, and can freeze:
 * keep every socket open but pass nothing and answer nothing, as a peer that vanished without a
 * FIN (a tab killed, a laptop lid closed, a cable pulled).
 */
import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  /** `http://127.0.0.1:<port>/push` through the proxy. */
  readonly base: string;
  /** New connections go to `port` from now on (open ones stay where they are). */
  retarget(port: number): void;
  /** Closes every open connection at once, both ways (the client reconnects through the proxy). */
  cut(): void;
  /** Passes nothing more, either way, on open or new connections; no socket is closed. */
  freeze(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `targets` (ports on 127.0.0.1), one connection to each in turn. */
export async function startTcpProxy(...targets: number[]): Promise<TcpProxy> {
  let ports = targets;
  let turn = 0;
  let frozen = false;
  const sockets = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    track(client);
    if (frozen) {
      client.pause(); // accepted, never answered: a black hole
      return;
    }
    const upstream = connect(ports[turn++ % ports.length]!, '127.0.0.1');
    track(upstream);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      if (!pairs.delete(pair)) return; // frozen: each side keeps its socket open
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    base: `http://127.0.0.1:${port}/push`,
    retarget(next) {
      ports = [next];
    },
    cut() {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    freeze() {
      frozen = true;
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
      pairs.clear();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
