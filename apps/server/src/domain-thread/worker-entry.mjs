// The domain thread starts here. Sluice runs its TypeScript through tsx, and on Node 20 a worker
// thread does not inherit the loader the main thread was started with, so it registers tsx
// itself before loading the worker's code.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
