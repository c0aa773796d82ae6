// Entry of the PGlite worker thread. A worker does not inherit the parent's TypeScript loader
// (tsx's hooks are registered per thread), so this plain module registers it, then loads the worker.
import { register } from "tsx/esm/api";

register();
await import("./pglite-worker.ts");
