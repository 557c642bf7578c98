import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  // `npm run dev`: the page calls /graphql on its own origin and Vite passes it on to the router of `npm start`,
  // WebSocket included, so the router needs no CORS entry for the dev server.
  server: { proxy: { '/graphql': { target: `http://localhost:${process.env.ROUTER_PORT ?? 4000}`, ws: true } } },
  build: { sourcemap: true },
});
