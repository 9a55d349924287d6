// Vite builds the single-page app into dist/, which `parley serve --web web/dist` serves on the
// same origin as the API. `npm run dev` proxies the API to a server on PARLEY_URL.
import { defineConfig } from "vitest/config";

const api = process.env.PARLEY_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1200 },
  server: {
    proxy: {
      "/api/v1/events": { target: api.replace(/^http/, "ws"), ws: true },
      "/api": api,
    },
  },
  test: { include: ["test/**/*.test.ts"], environment: "node" },
});
