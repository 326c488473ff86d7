/**
 * Traffic between attached endpoints, bounded in time: the examples' ping
 * and UDP helpers over `Attachment.endpoint` (a userspace `@weft/vxlan`
 * `Endpoint`: ICMP echo and UDP sockets inside this process).
 */
import type { Attachment } from '@weft/core';

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Pings until a reply (a peer may still be programming the new endpoint); resolves with the RTT in ms. */
export async function pingUntil(from: Attachment, ip: string, timeoutMs = 10_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await from.endpoint.ping(ip, { timeoutMs: 300 });
    } catch (err) {
      if (performance.now() > deadline) throw new Error(`${from.name} (${from.ip}) got no ping reply from ${ip} within ${timeoutMs} ms`, { cause: err });
      await pause(20);
    }
  }
}

/** Sends `text` from `from` to an echo server on `to` (UDP port 7), retrying a few times; resolves with the echo. */
export async function udpEcho(from: Attachment, to: Attachment, text: string): Promise<string> {
  const server = to.endpoint.bind(7);
  server.on('message', (data: Uint8Array, peer: { address: string; port: number }) => server.send(data, peer.address, peer.port));
  const client = from.endpoint.bind(0);
  try {
    const reply = new Promise<string>((resolve) => client.once('message', (data: Uint8Array) => resolve(new TextDecoder().decode(data))));
    for (let attempt = 0; attempt < 5; attempt++) {
      client.send(new TextEncoder().encode(text), to.ip, 7);
      const got = await Promise.race([reply, pause(300).then(() => undefined)]);
      if (got !== undefined) return got;
    }
    throw new Error(`no UDP echo from ${to.name} (${to.ip}:7) after 5 tries`);
  } finally {
    client.close();
    server.close();
  }
}

/** What a ping loop saw. */
export interface LoopResult {
  readonly sent: number;
  readonly replies: number;
  readonly lost: number;
  /** The first few failures, for the report. */
  readonly errors: string[];
}

/**
 * Pings `ip` from `from` back to back (1 s timeout each, 10 ms apart) until
 * `stop()`, which resolves with the counts once the ping in flight settles.
 */
export function pingLoop(from: Attachment, ip: string): { stop: () => Promise<LoopResult> } {
  let running = true;
  const r = { sent: 0, replies: 0, lost: 0, errors: [] as string[] };
  const done = (async () => {
    while (running) {
      r.sent += 1;
      try {
        await from.endpoint.ping(ip, { timeoutMs: 1000 });
        r.replies += 1;
      } catch (err) {
        r.lost += 1;
        if (r.errors.length < 3) r.errors.push((err as Error).name);
      }
      await pause(10);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return r;
    },
  };
}

/** "120 sent, 120 replies, 0 lost" (with the first errors' names when some were lost). */
export function describeLoop(r: LoopResult): string {
  return `${r.sent} sent, ${r.replies} replies, ${r.lost} lost${r.errors.length > 0 ? ` (${r.errors.join(', ')})` : ''}`;
}

/**
 * Asks `ip`:`port` "who are you?" from a fresh UDP socket of `from` (one flow
 * per call, its own source port), retrying a few times; resolves with the
 * reply's text and the address it came from.
 */
export async function askOnce(from: Attachment, ip: string, port: number): Promise<{ text: string; from: string }> {
  const client = from.endpoint.bind(0);
  try {
    const reply = new Promise<{ text: string; from: string }>((resolve) =>
      client.once('message', (data: Uint8Array, peer: { address: string }) => resolve({ text: new TextDecoder().decode(data), from: peer.address })),
    );
    for (let attempt = 0; attempt < 5; attempt++) {
      client.send(new TextEncoder().encode('who'), ip, port);
      const got = await Promise.race([reply, pause(300).then(() => undefined)]);
      if (got !== undefined) return got;
    }
    throw new Error(`${from.name}: no reply from ${ip}:${port}`);
  } finally {
    client.close();
  }
}

/** Answers every datagram on `at`'s UDP `port` with `at`'s name; returns the socket (close it when done). */
export function whoAmI(at: Attachment, port: number): { close: () => void } {
  const server = at.endpoint.bind(port);
  server.on('message', (_d: Uint8Array, peer: { address: string; port: number }) => server.send(new TextEncoder().encode(at.name), peer.address, peer.port));
  return server;
}
