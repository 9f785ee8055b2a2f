// Signature checks with the host's native crypto: node:crypto `verify` (synchronous, about 25 µs
// for RS256) where it exists, else WebCrypto `subtle.verify` (Workers, Deno). The core has
// already chosen the key and checked that the algorithm fits it; this only answers "does the
// signature verify". Keys are imported once and cached under the core's serial for the key's
// fingerprint (never its position in a key set, which changes when the set is swapped).

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

// Imported keys kept at most; Entra publishes a handful.
const MAX_KEYS = 64;

export function base64urlBytes(text) {
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
    this.utf8 = new TextDecoder();
  }

  reset() {
    this.keys.clear();
  }

  remember(id, key) {
    if (this.keys.size >= MAX_KEYS) this.keys.clear();
    this.keys.set(id, key);
    return key;
  }

  /** The bytes of the token's payload part (the core has checked they are base64url). */
  payloadBytes(token) {
    const first = token.indexOf(".");
    const part = token.slice(first + 1, token.lastIndexOf("."));
    return this.Buffer ? new Uint8Array(this.Buffer.from(part, "base64url")) : base64urlBytes(part);
  }

  /** The payload as text, for JSON.parse once the core has accepted it as claims. */
  payloadText(token) {
    const first = token.indexOf(".");
    const part = token.slice(first + 1, token.lastIndexOf("."));
    return this.Buffer ? this.Buffer.from(part, "base64url").toString("utf8") : this.utf8.decode(base64urlBytes(part));
  }

  /** true/false from node:crypto, or undefined when the host cannot check (use wasm). */
  verifySync(wasm, handle, token) {
    if (!this.hasSync) return undefined;
    const meta = wasm.prepared_key(handle);
    const serial = meta >>> 2;
    const alg = meta & 3;
    let key = this.keys.get(serial);
    if (key === undefined) {
      try {
        const jwk = JSON.parse(wasm.prepared_key_jwk(handle));
        key = this.remember(serial, this.node.createPublicKey({ key: jwk, format: "jwk" }));
      } catch {
        key = this.remember(serial, null);
      }
    }
    if (key === null) return undefined;
    const dot = token.lastIndexOf(".");
    const data = this.Buffer.from(token.slice(0, dot), "latin1"); // base64url: ASCII, as the core sees it
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
    const meta = wasm.prepared_key(handle);
    const alg = meta & 3;
    let key = this.keys.get(meta);
    if (key === undefined) {
      const jwk = JSON.parse(wasm.prepared_key_jwk(handle));
      key = this.remember(meta, this.subtle.importKey("jwk", jwk, SUBTLE_IMPORT[alg], false, ["verify"]));
    }
    const dot = token.lastIndexOf(".");
    const data = new TextEncoder().encode(token.slice(0, dot));
    const signature = base64urlBytes(token.slice(dot + 1));
    return key.then((k) => this.subtle.verify(SUBTLE_VERIFY[alg], k, signature, data));
  }
}
