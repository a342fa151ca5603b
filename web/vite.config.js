import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// The build lands inside the gateway module, which embeds it (go:embed), so
// `make run` serves the storefront without Node. Assets go under /static/,
// the prefix the contract reserves for the frontend (§2.1).
export default defineConfig({
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('../gateway/internal/web/dist', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'static',
    target: 'es2022',
    // The app is one module chunk; the browsers it targets need no
    // modulepreload polyfill.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev` proxies the API to a running gateway (make run).
    proxy: {
      '/restful': 'http://127.0.0.1:8080',
      '/oauth': 'http://127.0.0.1:8080',
      '/openapi.json': 'http://127.0.0.1:8080',
    },
  },
});
