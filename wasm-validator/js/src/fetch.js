// Fetching the JWKS for the core's cache state machine: HTTPS only, no redirects, a timeout and a
// size cap (none of the common validators caps the response, REFERENCE.md §7).

const LOOPBACK = new Set(["127.0.0.1", "[::1]", "localhost"]);

/** Throws unless `uri` is https, or loopback http when the caller explicitly allowed it (tests). */
export function checkJwksUrl(uri, allowInsecureLoopback) {
  const url = new URL(uri);
  if (url.protocol === "https:") return;
  if (url.protocol === "http:" && allowInsecureLoopback && LOOPBACK.has(url.hostname)) return;
  throw new Error(
    `jwksUri must use https (got ${url.protocol}//${url.host}); ` +
      "plain http is allowed only for 127.0.0.1 with allowInsecureLoopback",
  );
}

/** Fetches the JWKS body as bytes; throws on timeout, non-200, redirect or an oversized body. */
export async function fetchJwks(fetchImpl, uri, timeoutMs, maxBytes, redirect = "error") {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await fetchImpl(uri, {
      redirect, // a key set is never taken from wherever a redirect points
      signal: abort.signal,
      headers: { accept: "application/json" },
    });
    if (res.status !== 200) throw new Error(`JWKS endpoint answered ${res.status}`);
    if (Number(res.headers.get("content-length") ?? 0) > maxBytes) {
      throw new Error("JWKS response over the size cap");
    }
    if (!res.body) {
      const whole = new Uint8Array(await res.arrayBuffer());
      if (whole.length > maxBytes) throw new Error("JWKS response over the size cap");
      return whole;
    }
    // Read incrementally so an endless body is cut off at the cap, not buffered whole.
    const reader = res.body.getReader();
    const chunks = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        abort.abort();
        throw new Error("JWKS response over the size cap");
      }
      chunks.push(value);
    }
    const body = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      body.set(c, at);
      at += c.length;
    }
    return body;
  } finally {
    clearTimeout(timer);
  }
}
