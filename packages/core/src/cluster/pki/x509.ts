// `reflect-metadata` must be loaded before `@peculiar/x509`: the library registers its algorithm
// providers in tsyringe's DI container, and tsyringe throws at load time without the Reflect
// metadata polyfill. This is the ONLY module that imports `@peculiar/x509`; every other PKI module
// reaches it through here, so the polyfill is always in place first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

/**
 * @internal `@peculiar/x509`, loaded after its polyfill. Used for generating and parsing
 * certificates and CSRs only; no module here hand-writes ASN.1.
 */
export { x509 };

/**
 * @internal The WebCrypto implementation every call passes explicitly to `@peculiar/x509`
 * (node's own `webcrypto`), so nothing depends on — or changes — the library's global provider.
 */
export const webCrypto = webcrypto;
