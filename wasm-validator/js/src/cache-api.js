// A `cache` store (the `{ get, put }` shape a Workers KV binding has) over the Workers Cache API,
// which every isolate of a Cloudflare location shares: a new isolate starts from the key set an
// earlier one fetched instead of fetching it again. Stale-while-revalidate comes from the core's
// state machine: imported keys younger than the refresh interval (1 h) are used as they are; older
// ones (up to the 24 h max age) are used while one background refresh runs, whose result is put
// back here for the next isolates.

/** Where entries live; never fetched, only a cache key (the Cache API keys on URLs). */
const ORIGIN = "https://entrawatch-validator.invalid";

/**
 * `cache`: a Cache (default `caches.default`). `maxAgeSeconds` bounds how long the Cache API keeps
 * an entry (default 24 h, the key set's max age; the core refuses older state anyway).
 */
export function cacheApiStore(cache = globalThis.caches?.default, { maxAgeSeconds = 86400 } = {}) {
  if (!cache || typeof cache.match !== "function") {
    throw new Error("cacheApiStore needs a Cache (caches.default on Workers)");
  }
  const url = (key) => `${ORIGIN}/${encodeURIComponent(key)}`;
  return {
    async get(key) {
      const hit = await cache.match(url(key));
      return hit ? hit.text() : null;
    },
    async put(key, value) {
      const headers = { "content-type": "application/json", "cache-control": `max-age=${maxAgeSeconds}` };
      await cache.put(url(key), new Response(value, { headers }));
    },
  };
}
