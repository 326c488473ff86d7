/**
 * Published test vectors, reproduced through this package's own code paths.
 * Sources (bytes copied from the documents, not produced by us):
 * - RFC 8439 §2.8.2 (AEAD_CHACHA20_POLY1305 example).
 * - McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", Appendix B,
 *   test cases 13–16 (the 256-bit-key cases).
 * - NaCl secretbox test (tests/secretbox.c in NaCl; libsodium
 *   test/default/secretbox.c): "firstkey", nonce 69696ee9…, 131-byte message.
 * - RFC 5869 Appendix A.1 (HKDF-SHA256 test case 1).
 */
import { createAeadCipher, hkdfSha256 } from '../src';
import { sealPacket, openPacket } from '../src/sa/packet';
import { hex, toHex } from './support/hex';

describe('RFC 8439 §2.8.2 ChaCha20-Poly1305 AEAD example', () => {
  const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
  // Nonce = constant 07000000 ‖ IV 4041424344454647; AAD = 50515253 c0c1c2c3c4c5c6c7.
  // The RFC's 12-byte AAD has exactly our SPI ‖ seq-hi ‖ seq-lo shape, so the
  // whole ESP-style packet can be checked: SPI 0x50515253, ESN 0xc0c1c2c3_c4c5c6c7.
  const plaintext = new TextEncoder().encode(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  );
  const ciphertext =
    'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b' +
    '1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc' +
    '3ff4def08e4b7a9de576d26586cec64b6116';
  const tag = '1ae10b594f09e26a7e902ecbd0600691';

  it('seals to the published ciphertext and tag inside our packet framing', () => {
    const cipher = createAeadCipher('chacha20-poly1305', key, hex('07000000'));
    const packet = sealPacket(cipher, 0x50515253, 0xc0c1c2c3, 0xc4c5c6c7, hex('4041424344454647'), plaintext);
    expect(toHex(packet)).toBe('50515253' + 'c4c5c6c7' + '4041424344454647' + ciphertext + tag);
    expect(Buffer.from(openPacket(cipher, packet, 0xc0c1c2c3)!).toString()).toBe(Buffer.from(plaintext).toString());
    // The implicit high sequence bits are authenticated: the wrong guess fails.
    expect(openPacket(cipher, packet, 0xc0c1c2c4)).toBeNull();
  });
});

describe('GCM specification test cases 13–16 (AES-256-GCM)', () => {
  const k15 = 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308';
  const p15 =
    'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255';
  const c15 =
    '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad';
  const cases = [
    { n: 13, key: '00'.repeat(32), iv: '000000000000000000000000', aad: '', p: '', c: '', t: '530f8afbc74536b9a963b4f1c4cb738b' },
    {
      n: 14,
      key: '00'.repeat(32),
      iv: '000000000000000000000000',
      aad: '',
      p: '00000000000000000000000000000000',
      c: 'cea7403d4d606b6e074ec5d3baf39d18',
      t: 'd0d1c8a799996bf0265b98b5d48ab919',
    },
    { n: 15, key: k15, iv: 'cafebabefacedbaddecaf888', aad: '', p: p15, c: c15, t: 'b094dac5d93471bdec1a502270e3cc6c' },
    {
      n: 16,
      key: k15,
      iv: 'cafebabefacedbaddecaf888',
      aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
      p: p15.slice(0, 120),
      c: c15.slice(0, 120),
      t: '76fc6ece0f4e1768cddf8853bb2d551b',
    },
  ];
  it.each(cases)('test case $n', ({ key, iv, aad, p, c, t }) => {
    // The spec's 96-bit IV splits as RFC 4106 does: salt (4) ‖ explicit IV (8).
    const cipher = createAeadCipher('aes-256-gcm', hex(key), hex(iv.slice(0, 8)));
    const out = new Uint8Array(p.length / 2 + 16);
    cipher.sealInto(hex(iv.slice(8)), hex(aad), hex(p), out, 0);
    expect(toHex(out)).toBe(c + t);
    const received = hex(iv.slice(8) + toHex(out)); // explicit IV ‖ sealed, as on the wire
    expect(toHex(cipher.open(received, 0, hex(aad), 8)!)).toBe(p);
    const bad = Uint8Array.from(received);
    bad[bad.length - 1]! ^= 1;
    expect(cipher.open(bad, 0, hex(aad), 8)).toBeNull();
  });
});

describe('NaCl secretbox vector (xsalsa20-poly1305)', () => {
  const key = hex('1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389');
  const message = hex(
    'be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb31' +
      '0e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705',
  );
  const box =
    'f3ffc7703f9400e52a7dfb4b3d3305d9' + // Poly1305 tag
    '8e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738' +
    'b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5';

  it('seals to the published box when the 24-byte nonce is laid out as salt ‖ SPI ‖ seq-hi ‖ seq-lo ‖ IV', () => {
    // Nonce 69696ee9 55b62b73 cd62bda8 75fc73d6 8219e0036b7a0b37.
    const cipher = createAeadCipher('xsalsa20-poly1305', key, hex('69696ee9'));
    const packet = sealPacket(cipher, 0x55b62b73, 0xcd62bda8, 0x75fc73d6, hex('8219e0036b7a0b37'), message);
    expect(toHex(packet)).toBe('55b62b73' + '75fc73d6' + '8219e0036b7a0b37' + box);
    expect(toHex(openPacket(cipher, packet, 0xcd62bda8)!)).toBe(toHex(message));
    expect(openPacket(cipher, packet, 0xcd62bda9)).toBeNull();
  });
});

describe('RFC 5869 A.1 HKDF-SHA256', () => {
  it('derives the published OKM', () => {
    const okm = hkdfSha256(hex('0b'.repeat(22)), hex('000102030405060708090a0b0c'), hex('f0f1f2f3f4f5f6f7f8f9'), 42);
    expect(toHex(okm)).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });
});
