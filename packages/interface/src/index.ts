/**
 * @packageDocumentation
 * @weft/interface — the contracts every Weft package shares, defined once
 * (like js-libp2p's `@libp2p/interface`): the error base class and shared
 * errors, IP/MAC/socket-address text, the `Underlay` datagram seam, `Clock`
 * and `Random` injection, `StateMachine`, and the control plane's `Store`
 * and `DataPlane` seams. No runtime dependencies.
 */
export * from './errors';
export * from './address';
export type { Underlay } from './underlay';
export { type Clock, systemClock, wallClock, ManualClock } from './clock';
export { type Random, seededRandom } from './random';
export type { StateMachine } from './state-machine';
export * from './store';
export * from './data-plane';
