import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev` serves the pages with hot reload and forwards Push and the demo API to a demo
// server started with `npm start` (default http://localhost:8080).
const backend = process.env.DEMO_BACKEND ?? 'http://localhost:8080';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      '/push': { target: backend, ws: true },
      '/api': backend,
      '/login': backend,
    },
  },
});
