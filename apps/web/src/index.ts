// For the server and tests: where the built SPA lives, and how to build it.
export { buildWeb, webDist } from "./build";
