/**
 * A TCP proxy on 127.0.0.1 the tests put between a client and etcd, to fail
 * the network on purpose: `cut()` destroys every connection (the client sees
 * its connection reset and reconnects through the proxy), `mode` decides what
 * happens next.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * - `pass`: forward both ways;
 * - `reject`: accept new connections and reset them at once (etcd looks down);
 * - `stall`: keep connections open but drop every byte (etcd looks hung; requests time out).
 */
export type ProxyMode = 'pass' | 'reject' | 'stall';

export class TcpProxy {
  /** What happens to connections and bytes from now on. */
  mode: ProxyMode = 'pass';
  /** Client connections accepted so far. */
  accepted = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    /** The proxy's port on 127.0.0.1. */
    readonly port: number,
  ) {}

  /** `http://127.0.0.1:<port>`: the endpoint to give the client. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens on a free port, forwarding to `target`. */
  static start(target: { readonly host: string; readonly port: number }): Promise<TcpProxy> {
    return new Promise((resolve, reject) => {
      let proxy: TcpProxy | undefined;
      const server = createServer((client) => proxy?.accept(client, target));
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        proxy = new TcpProxy(server, (server.address() as { port: number }).port);
        resolve(proxy);
      });
    });
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
  }

  private accept(client: Socket, target: { readonly host: string; readonly port: number }): void {
    this.accepted += 1;
    this.track(client);
    if (this.mode === 'reject') {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    this.track(upstream);
    const forward = (to: Socket) => (chunk: Buffer) => {
      if (this.mode !== 'stall') to.write(chunk);
    };
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  /** Destroys every open connection (both sides), as a network fault would. */
  cut(): void {
    for (const s of [...this.sockets]) s.destroy();
  }

  /** Stops listening and destroys every connection. */
  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
