import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// In development Vite serves the app and forwards the socket and the REST identity calls to the
// Sluice server (`npm start`, port 8080 unless SLUICE_SERVER says otherwise), so cookies stay same-origin.
const server = process.env.SLUICE_SERVER ?? "http://127.0.0.1:8080";

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  server: {
    proxy: {
      "/ws": { target: server, ws: true },
      "/auth": { target: server },
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
  },
});
