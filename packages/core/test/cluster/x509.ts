// `reflect-metadata` must be loaded before `@peculiar/x509`: the library registers its algorithm
// providers in tsyringe's DI container, and tsyringe throws at load time without the Reflect
// metadata polyfill. Tests and benchmarks reach @peculiar/x509 through here.
//
// @peculiar/x509 is a second, independent X.509 implementation (a dev dependency): the tests use
// it to forge malformed certificates, to cross-check what the CA writes (certificate-writer.ts)
// and the CSRs nodes write (csr.ts), and the etcd TLS benchmark to make etcd's certificates.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

export { x509 };

/** The WebCrypto implementation every call passes explicitly to `@peculiar/x509` (node's own). */
export const webCrypto = webcrypto;
