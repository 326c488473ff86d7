/**
 * The userspace data plane: core's default `DataPlane`, over `@weft/vxlan`
 * (VTEPs, segments, endpoints) and `@weft/crypto` (sealed networks).
 */
export { UserspaceDataPlane } from './userspace-data-plane';
export {
  DEFAULT_VXLAN_PORT,
  DEFAULT_ENCRYPTED_PORT,
  DEFAULT_UNDERLAY_MTU,
  type UserspaceDataPlaneOptions,
  type UnderlayFactory,
} from './options';
export { udpUnderlayFactory, memoryUnderlayFactory } from './underlay-factories';
export { UnknownNetworkError, KeyTransitionError, AddressConflictError, DataPlaneClosedError } from './errors';
export { planKeySteps, type KeyState, type KeyStep } from './key-plan';
export { CleartextGuard, type CleartextGuardCounters } from './cleartext-guard';
export { EncryptedDemux, DemuxPort, type Accepting, type EncryptedDemuxCounters } from './encrypted-demux';
