/** A port of 127.0.0.1 free for both UDP and TCP at the time of the call (a DNS server needs both). */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** Tries up to 20 kernel-chosen UDP ports until one is also free for TCP; closes both probes before resolving. */
export async function freeLoopbackPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(0, '127.0.0.1', () => resolve());
      });
      const port = udp.address().port;
      const tcp = createServer();
      const ok = await new Promise<boolean>((resolve) => {
        tcp.once('error', () => resolve(false));
        tcp.listen(port, '127.0.0.1', () => resolve(true));
      });
      await new Promise<void>((resolve) => (ok ? tcp.close(() => resolve()) : resolve()));
      if (ok) return port;
    } finally {
      udp.close();
    }
  }
  throw new Error('no port of 127.0.0.1 free for both UDP and TCP after 20 tries');
}
