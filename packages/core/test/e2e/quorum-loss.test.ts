/**
 * Quorum loss (2 of 3 managers down): endpoints keep exchanging traffic (the
 * data plane does not need the control plane), control operations on the
 * surviving manager and on a worker fail with QuorumLostError — the typed
 * fast failure, not a request timeout — and once one manager is back,
 * attaches work again. The time each refusal took is printed, not asserted
 * (docs: within about two election timeouts).
 */
import { QuorumLostError } from '@weft/interface';
import { LocalCluster } from '../../src/testing';
import { pingEventually } from '../support/traffic';

describe('quorum loss', () => {
  it('2 of 3 managers down: traffic continues, control operations fail fast with QuorumLostError, and recover when one manager returns', async () => {
    const cluster = await LocalCluster.start({ managers: 3, workers: 1, control: 'memory', underlay: 'memory', storage: 'memory' });
    try {
      await cluster.node('m1').createNetwork({ name: 'q', attachable: true });
      const a = await cluster.node('m1').attach('q', { name: 'a' });
      const b = await cluster.node('w1').attach('q', { name: 'b' });
      await pingEventually(a, b.ip);
      await cluster.crash('m2');
      await cluster.crash('m3');

      for (const id of ['m1', 'w1']) {
        // The first refusal may wait out the quorum window; after that they are immediate.
        for (let i = 0; i < 2; i++) {
          const t0 = performance.now();
          const err = await cluster
            .node(id)
            .attach('q', { name: `late-${id}-${i}` })
            .then(
              () => undefined,
              (e: unknown) => e,
            );
          const ms = performance.now() - t0;
          console.log(`attach on ${id} with no quorum: ${(err as Error)?.name} after ${ms.toFixed(0)} ms`);
          expect(err).toBeInstanceOf(QuorumLostError);
        }
      }
      // The data plane keeps forwarding between the endpoints it has.
      await pingEventually(a, b.ip);
      await pingEventually(b, a.ip);

      await cluster.restart('m2');
      const c = await cluster.node('w1').attach('q', { name: 'c' });
      await pingEventually(a, c.ip);
    } finally {
      await cluster.close();
    }
  }, 60_000);
});
