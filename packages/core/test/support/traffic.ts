import type { Endpoint } from '@weft/vxlan';
import type { Attachment, WeftNode } from '../../src';

/** The userspace endpoint of an attachment. */
export const ep = (a: Attachment): Endpoint => a.endpoint as Endpoint;

/** Pings until one succeeds (bounded), for reachability right after an attach propagates. */
export async function pingEventually(from: Attachment, ip: string, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await ep(from).ping(ip, { timeoutMs: 300 });
    } catch (err) {
      last = err;
    }
  }
  throw new Error(`${from.name} (${from.ip}) could not ping ${ip} within ${timeoutMs} ms: ${String(last)}`);
}

/** Sends one UDP datagram from `a` to `b` and resolves with what `b` received. */
export async function udpRoundTrip(a: Attachment, b: Attachment, payload: string, port = 7000): Promise<string> {
  const server = ep(b).bind(port);
  const client = ep(a).bind(0);
  try {
    const got = new Promise<string>((resolve) => server.on('message', (data: Uint8Array) => resolve(new TextDecoder().decode(data))));
    const deadline = Date.now() + 5000;
    let received: string | undefined;
    void got.then((v) => (received = v));
    while (received === undefined && Date.now() < deadline) {
      client.send(new TextEncoder().encode(payload), b.ip, port);
      await new Promise((r) => setTimeout(r, 50));
    }
    if (received === undefined) throw new Error(`no datagram from ${a.ip} reached ${b.ip}:${port}`);
    return received;
  } finally {
    server.close();
    client.close();
  }
}

/** Waits until `check` holds on every node (their reconcile loops settle), bounded. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The remote endpoint ids a node has programmed for a network. */
export async function programmedRemotes(node: WeftNode, networkId: string): Promise<string[]> {
  const s = await node.programmedState();
  return s.networks.find((n) => n.spec.id === networkId)?.remote.map((r) => r.id) ?? [];
}
