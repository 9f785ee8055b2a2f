// Miniflare options shared by the workerd suites and the bench: the package's modules with the
// .wasm as a compiled module, running `script` (a path relative to js/).
import { fileURLToPath } from "node:url";

export function workerdOptions(script, extra = {}) {
  return {
    modules: true,
    modulesRoot: fileURLToPath(new URL("..", import.meta.url)),
    scriptPath: fileURLToPath(new URL(`../${script}`, import.meta.url)),
    modulesRules: [
      { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-01-01",
    ...extra,
  };
}
