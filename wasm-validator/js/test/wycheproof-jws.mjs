// Project Wycheproof's JWS vectors (vendored in vectors/wycheproof/, Apache-2.0) as cases for
// verifyJws, and the tally the Node and workerd suites assert on.
import { readFileSync } from "node:fs";

const PRIVATE = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];

// Groups without a "public" member carry only the private JWK: its public half is the same key
// without the private members. Symmetric (oct) keys are passed as they are; the validator skips them.
function publicJwk(group) {
  const key = { ...(group.public ?? group.private) };
  if (key.kty !== "oct") for (const m of PRIVATE) delete key[m];
  return key;
}

function alg(jws) {
  if (typeof jws !== "string") return "json-serialization";
  try {
    return JSON.parse(Buffer.from(jws.split(".")[0], "base64url").toString()).alg ?? "?";
  } catch {
    return "?";
  }
}

/** Every vector: { tcId, comment, jws, jwks, valid, alg }. */
export function wycheproofCases() {
  const file = new URL("./vectors/wycheproof/json_web_signature_test.json", import.meta.url);
  const doc = JSON.parse(readFileSync(file, "utf8"));
  const cases = [];
  for (const group of doc.testGroups) {
    const jwks = { keys: [publicJwk(group)] };
    for (const t of group.tests) {
      cases.push({ tcId: t.tcId, comment: t.comment, jws: t.jws, jwks, valid: t.result === "valid", alg: alg(t.jws) });
    }
  }
  return cases;
}

/** Counts accepted/refused per outcome; `accepted[i]` is whether verifyJws answered ok. */
export function tally(cases, accepted) {
  const out = { total: cases.length, invalid: 0, invalidAccepted: [], valid: 0, validAccepted: 0, mustAccept: 0, mustAcceptRefused: [] };
  cases.forEach((c, i) => {
    if (!c.valid) {
      out.invalid++;
      if (accepted[i]) out.invalidAccepted.push(c.tcId);
      return;
    }
    out.valid++;
    if (accepted[i]) out.validAccepted++;
    if (c.alg === "RS256" || c.alg === "ES256") {
      out.mustAccept++;
      if (!accepted[i]) out.mustAcceptRefused.push(c.tcId);
    }
  });
  return out;
}

/** A compact JWS is a string; JSON serializations (objects) are handed over as their JSON text. */
export const asCompact = (jws) => (typeof jws === "string" ? jws : JSON.stringify(jws));
