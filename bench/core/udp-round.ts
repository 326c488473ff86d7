/**
 * One round of endpoint-to-endpoint UDP traffic, the sending loop of
 * `core encrypted vs plaintext` and `vip vs direct` (the destination address
 * is a parameter, so the same loop can aim at a service VIP or at the
 * backend itself): batches of `batch` datagrams per setImmediate, at most `window`
 * beyond the receiver's count in flight (the count is read in-process: an
 * acknowledgement that costs nothing), a window that makes no progress for
 * 100 ms written off as lost; `warmMs` uncounted, then `windowMs` counted at
 * the receiving socket.
 */
import type { Endpoint } from '@weft/vxlan';

export interface UdpRoundOptions {
  readonly warmMs: number;
  readonly windowMs: number;
  readonly window: number;
  readonly batch: number;
}

export interface UdpRound {
  /** Datagrams/s delivered to the receiving socket over the counted window. */
  readonly pps: number;
  /** Datagrams sent over the whole round (warm-up included). */
  readonly sent: number;
  /** Datagrams written off (in flight with no progress for 100 ms), over the whole round. */
  readonly lost: number;
  /** CPU time of the whole process (user + system) per datagram delivered in the window, µs. */
  readonly cpuUs: number;
}

/** Sends `bytes`-byte datagrams from a fresh socket on `from` to `dstIp`:`port`, received by a socket bound on `to` at `port`. */
export async function udpRound(from: Endpoint, to: Endpoint, dstIp: string, port: number, bytes: number, o: UdpRoundOptions): Promise<UdpRound> {
  const server = to.bind(port);
  const client = from.bind(0);
  const payload = new Uint8Array(bytes).fill(0xab);
  let received = 0;
  server.on('message', () => {
    received++;
  });
  let sent = 0;
  let writtenOff = 0;
  let lastReceived = 0;
  let lastProgress = performance.now();
  try {
    return await new Promise<UdpRound>((resolve, reject) => {
      let countFrom = 0;
      let start = 0;
      let cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const loop = (): void => {
        try {
          const now = performance.now();
          if (start === 0 && now - t0 >= o.warmMs) {
            start = now;
            countFrom = received;
            cpu0 = process.cpuUsage();
          } else if (start !== 0 && now - start >= o.windowMs) {
            const counted = received - countFrom;
            const cpu = process.cpuUsage(cpu0);
            resolve({ pps: counted / ((now - start) / 1000), sent, lost: writtenOff, cpuUs: (cpu.user + cpu.system) / counted });
            return;
          }
          if (received !== lastReceived) {
            lastReceived = received;
            lastProgress = now;
          }
          let room = o.window - (sent - received - writtenOff);
          if (room <= 0 && now - lastProgress > 100) {
            writtenOff = sent - received;
            lastProgress = now;
            room = o.window;
          }
          const n = Math.min(room, o.batch);
          for (let i = 0; i < n; i++) client.send(payload, dstIp, port);
          if (n > 0) sent += n;
          setImmediate(loop);
        } catch (err) {
          reject(err);
        }
      };
      loop();
    });
  } finally {
    server.close();
    client.close();
  }
}
