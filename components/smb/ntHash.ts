/**
 * The NT hash Samba keeps per user (MD4 of the UTF-16LE password), computed here so the probe
 * can tell whether the password on the host is still the declared one. OpenSSL 3 (Node 17+)
 * no longer offers MD4, so this is a small RFC 1320 implementation. The hash is compared in
 * memory and never stored: it is as good as the password to an attacker (pass-the-hash).
 */
import * as crypto from "crypto";

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/** MD4 digest (RFC 1320). */
export function md4(data: Buffer): Buffer {
  const len = data.length;
  const padded = Buffer.alloc(((len + 8) >> 6) * 64 + 64);
  data.copy(padded);
  padded[len] = 0x80;
  const bits = len * 8;
  padded.writeUInt32LE(bits >>> 0, padded.length - 8);
  padded.writeUInt32LE(Math.floor(bits / 0x100000000), padded.length - 4);
  let a = 0x67452301;
  let b = 0xefcdab89;
  let c = 0x98badcfe;
  let d = 0x10325476;
  const x = new Array<number>(16);
  const F = (p: number, q: number, r: number) => (p & q) | (~p & r);
  const G = (p: number, q: number, r: number) => (p & q) | (p & r) | (q & r);
  const H = (p: number, q: number, r: number) => p ^ q ^ r;
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) x[i] = padded.readUInt32LE(off + i * 4);
    const [aa, bb, cc, dd] = [a, b, c, d];
    for (const i of [0, 4, 8, 12]) {
      a = rotl((a + F(b, c, d) + x[i]) | 0, 3);
      d = rotl((d + F(a, b, c) + x[i + 1]) | 0, 7);
      c = rotl((c + F(d, a, b) + x[i + 2]) | 0, 11);
      b = rotl((b + F(c, d, a) + x[i + 3]) | 0, 19);
    }
    for (const i of [0, 1, 2, 3]) {
      a = rotl((a + G(b, c, d) + x[i] + 0x5a827999) | 0, 3);
      d = rotl((d + G(a, b, c) + x[i + 4] + 0x5a827999) | 0, 5);
      c = rotl((c + G(d, a, b) + x[i + 8] + 0x5a827999) | 0, 9);
      b = rotl((b + G(c, d, a) + x[i + 12] + 0x5a827999) | 0, 13);
    }
    for (const i of [0, 2, 1, 3]) {
      a = rotl((a + H(b, c, d) + x[i] + 0x6ed9eba1) | 0, 3);
      d = rotl((d + H(a, b, c) + x[i + 8] + 0x6ed9eba1) | 0, 9);
      c = rotl((c + H(d, a, b) + x[i + 4] + 0x6ed9eba1) | 0, 11);
      b = rotl((b + H(c, d, a) + x[i + 12] + 0x6ed9eba1) | 0, 15);
    }
    a = (a + aa) | 0;
    b = (b + bb) | 0;
    c = (c + cc) | 0;
    d = (d + dd) | 0;
  }
  const out = Buffer.alloc(16);
  [a, b, c, d].forEach((v, i) => out.writeUInt32LE(v >>> 0, i * 4));
  return out;
}

/** The NT hash of a password, as 32 upper-case hex digits (the form `pdbedit -w` prints). */
export function ntHash(password: string): string {
  return md4(Buffer.from(password, "utf16le")).toString("hex").toUpperCase();
}

/** Constant-time comparison of a password with an NT hash read from the host. */
export function passwordMatches(password: string, hashHex: string): boolean {
  const want = Buffer.from(ntHash(password), "hex");
  const got = Buffer.from(/^[0-9A-Fa-f]{32}$/.test(hashHex) ? hashHex : "", "hex");
  return got.length === 16 && crypto.timingSafeEqual(want, got);
}
