// Interleaved timing shared by the Node and Deno benches: every path validates the same tokens,
// block by block, and the order of the paths rotates every block, so whatever else loads the
// machine hits all of them alike. Returns µs per call for each path.
import process from "node:process";

export async function interleaved(paths, tokens, block = 50) {
  const names = Object.keys(paths);
  const total = Object.fromEntries(names.map((n) => [n, 0n]));
  const rounds = Math.ceil(tokens.length / block);
  for (let r = 0; r < rounds; r++) {
    const part = tokens.slice(r * block, (r + 1) * block);
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length];
      const fn = paths[name];
      const start = process.hrtime.bigint();
      for (const t of part) {
        const p = fn(t);
        if (p) await p;
      }
      total[name] += process.hrtime.bigint() - start;
    }
  }
  return Object.fromEntries(names.map((n) => [n, Number(total[n]) / 1000 / tokens.length]));
}

export const must = (ok, what) => { if (!ok) throw new Error(`bench: ${what} refused a valid token`); };

/** Markdown rows: path, µs, ratio to `base`. */
export function table(title, results, base, baseLabel) {
  const rows = [`| ${title} | µs per validation | ratio to ${baseLabel} |`, "|---|---:|---:|"];
  for (const [name, us] of Object.entries(results)) rows.push(`| ${name} | ${us.toFixed(2)} | ${(us / base).toFixed(2)}x |`);
  return rows.join("\n");
}
