// The Cache API adapter in workerd (miniflare): the key set one isolate fetched is shared through
// caches.default, so a new isolate (here a new workerd process on the same persisted cache)
// validates without fetching; one with an empty cache fetches once.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare, Response as MiniflareResponse } from "miniflare";
import { AUD, TID, jwks, mint, v2Claims } from "./helpers.mjs";
import { workerdOptions } from "./workerd-options.mjs";

const outbound = { hits: 0, body: JSON.stringify(jwks("a")) };
const dirs = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function isolate(cachePersist) {
  return new Miniflare(workerdOptions("test/workerd-harness.mjs", {
    cachePersist,
    outboundService: async () => {
      outbound.hits++;
      return new Response(outbound.body, { headers: { "content-type": "application/json" } });
    },
  }));
}

async function validate(mf, tokens) {
  const options = { tenants: [TID], audiences: [AUD], jwksUri: "https://keys.test/keys", cacheApi: true };
  const res = await mf.dispatchFetch("http://harness/", {
    method: "POST",
    body: JSON.stringify({ name: "cache-api", options, tokens }),
  });
  return (await res.json()).results;
}

const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "entrawatch-cache-"));
  dirs.push(d);
  return d;
};

test("workerd: a new isolate with a warm Cache API entry validates without fetching", async () => {
  const shared = tempDir();
  outbound.hits = 0;
  const first = isolate(shared);
  assert.ok((await validate(first, [mint(v2Claims())])).every((r) => r.ok));
  assert.equal(outbound.hits, 1, "the first isolate fetches");
  await first.dispose();

  const second = isolate(shared);
  const results = await validate(second, [1, 2, 3].map(() => mint(v2Claims())));
  await second.dispose();
  assert.ok(results.every((r) => r.ok), JSON.stringify(results));
  assert.equal(outbound.hits, 1, "the new isolate made no fetch");

  const cold = isolate(tempDir());
  assert.ok((await validate(cold, [mint(v2Claims())])).every((r) => r.ok));
  await cold.dispose();
  assert.equal(outbound.hits, 2, "an isolate with an empty cache fetches once");
});

test("workerd: a stale-but-usable Cache API entry is used at once and revalidated in the background", async () => {
  outbound.hits = 0;
  const mf = isolate(tempDir());
  const caches = await mf.getCaches();
  const url = `https://entrawatch-validator.invalid/${encodeURIComponent("entrawatch-jwks:https://keys.test/keys")}`;
  const twoHoursAgo = Math.floor(Date.now() / 1000) - 7200; // past the 1 h refresh, inside the 24 h max age
  const state = JSON.stringify({ v: 1, fetchedAt: twoHoursAgo, jwks: JSON.stringify(jwks("a")) });
  await caches.default.put(url, new MiniflareResponse(state, { headers: { "cache-control": "max-age=86400" } }));

  const results = await validate(mf, [mint(v2Claims())]);
  assert.ok(results.every((r) => r.ok), JSON.stringify(results));
  for (let i = 0; i < 100 && outbound.hits < 1; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(outbound.hits, 1, "one background refresh");
  let fetchedAt = twoHoursAgo;
  for (let i = 0; i < 100 && fetchedAt === twoHoursAgo; i++) {
    await new Promise((r) => setTimeout(r, 20));
    fetchedAt = JSON.parse(await (await caches.default.match(url)).text()).fetchedAt;
  }
  assert.ok(fetchedAt > twoHoursAgo + 7000, "the refreshed key set was put back for the next isolates");
  await mf.dispose();
});
