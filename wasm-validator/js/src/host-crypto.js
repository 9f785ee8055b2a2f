// Signature checks with the host's native crypto: node:crypto `verify` (synchronous, about 25 µs
// for RS256) where it exists, else WebCrypto `subtle.verify` (Workers, Deno). The core has
// already chosen the key and checked that the algorithm fits it; this only answers "does the
// signature verify". Keys are imported once per key-set generation.

const RS256 = 0;
const PS256 = 1;

const SUBTLE_IMPORT = [
  { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  { name: "RSA-PSS", hash: "SHA-256" },
  { name: "ECDSA", namedCurve: "P-256" },
];
// RFC 7518 §3.5: PS256 uses a 32-byte salt; §3.4: ES256 signatures are R || S (WebCrypto's form).
const SUBTLE_VERIFY = [
  { name: "RSASSA-PKCS1-v1_5" },
  { name: "RSA-PSS", saltLength: 32 },
  { name: "ECDSA", hash: "SHA-256" },
];

function base64urlBytes(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "===".slice((b64.length + 3) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export class HostCrypto {
  constructor(host = {}) {
    this.node = host.nodeCrypto;
    this.Buffer = host.Buffer;
    this.subtle = host.subtle;
    this.hasSync = Boolean(this.node && this.Buffer);
    this.keys = new Map();
  }

  reset() {
    this.keys.clear();
  }

  /** true/false from node:crypto, or undefined when the host cannot check (use wasm). */
  verifySync(wasm, handle, token) {
    if (!this.hasSync) return undefined;
    const index = wasm.prepared_key(handle);
    const alg = wasm.prepared_alg(handle);
    let key = this.keys.get(index);
    if (key === undefined) {
      try {
        key = this.node.createPublicKey({ key: JSON.parse(wasm.key_jwk(index)), format: "jwk" });
      } catch {
        key = null;
      }
      this.keys.set(index, key);
    }
    if (key === null) return undefined;
    const dot = token.lastIndexOf(".");
    const data = this.Buffer.from(token.slice(0, dot), "utf8"); // the bytes the core sees
    const signature = this.Buffer.from(token.slice(dot + 1), "base64url");
    const { constants } = this.node;
    const params = alg === RS256 ? key
      : alg === PS256 ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
      : { key, dsaEncoding: "ieee-p1363" };
    try {
      return this.node.verify("sha256", data, params, signature);
    } catch {
      return false;
    }
  }

  /** A promise of true/false from WebCrypto; rejects when the key cannot be imported. */
  verifyAsync(wasm, handle, token) {
    const index = wasm.prepared_key(handle);
    const alg = wasm.prepared_alg(handle);
    const id = `${index}:${alg}`;
    let key = this.keys.get(id);
    if (key === undefined) {
      const jwk = JSON.parse(wasm.key_jwk(index));
      key = this.subtle.importKey("jwk", jwk, SUBTLE_IMPORT[alg], false, ["verify"]);
      this.keys.set(id, key);
    }
    const dot = token.lastIndexOf(".");
    const data = new TextEncoder().encode(token.slice(0, dot));
    const signature = base64urlBytes(token.slice(dot + 1));
    return key.then((k) => this.subtle.verify(SUBTLE_VERIFY[alg], k, signature, data));
  }
}
