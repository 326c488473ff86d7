export type * from './types';
export type { DataPlane, LocalAttachment } from './data-plane';
export { DataPlaneError } from './errors';
