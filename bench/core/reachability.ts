/** Pinging and programmed-state probes over a running cluster, for the core benchmark. */
import type { WeftNode } from '@weft/core';
import type { Endpoint } from '@weft/vxlan';

/**
 * Pings `ip` from `from` every `everyMs` (each ping with its own
 * `pingTimeoutMs`, so a ping lost before the entries exist does not hold up
 * the next one) until one succeeds. Resolves with `performance.now()` when
 * the first echo reply arrives, or undefined when none does within `boundMs`.
 * Pings still outstanding at the end settle on their own timeouts.
 */
export function firstPing(from: Endpoint, ip: string, options: { everyMs: number; pingTimeoutMs: number; boundMs: number }): Promise<number | undefined> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (at: number | undefined): void => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(bound);
      resolve(at);
    };
    const fire = (): void => {
      if (done) return;
      from.ping(ip, { timeoutMs: options.pingTimeoutMs }).then(
        () => finish(performance.now()),
        () => undefined,
      );
    };
    const timer = setInterval(fire, options.everyMs);
    const bound = setTimeout(() => finish(undefined), options.boundMs);
    fire();
  });
}

/** The remote endpoint ids `node` has programmed on `networkId` (read back from its data plane). */
export async function programmedRemoteIds(node: WeftNode, networkId: string): Promise<string[]> {
  const state = await node.programmedState();
  return state.networks.find((n) => n.spec.id === networkId)?.remote.map((r) => r.id) ?? [];
}

/** True when `node`'s data plane holds nothing of `networkId` (no local endpoint left, so the network is not programmed). */
export async function networkGone(node: WeftNode, networkId: string): Promise<boolean> {
  const state = await node.programmedState();
  return state.networks.every((n) => n.spec.id !== networkId);
}
