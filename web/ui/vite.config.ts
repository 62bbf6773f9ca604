import { VitePWA } from 'vite-plugin-pwa';
import { defineConfig } from 'vitest/config';

// `npm run dev` forwards API and WebSocket calls to a running `ems all` (scripts/run.sh).
const apiTarget = process.env['EMS_API_URL'] ?? 'http://127.0.0.1:8080';

const themeColor = '#0b6e4f';

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  server: {
    proxy: {
      '/api': apiTarget,
      '/ws': { target: apiTarget, ws: true },
    },
  },
  // The manifest tells scripts/check-size.mjs which chunks the first page load needs.
  build: { target: 'es2022', manifest: true },
  plugins: [
    VitePWA({
      // The app asks before reloading into a new version, so a half-filled form is never lost.
      registerType: 'prompt',
      injectRegister: false,
      includeAssets: ['icons/icon.svg', 'icons/apple-touch-icon.png'],
      manifest: {
        name: 'EMS — Energy Management System',
        short_name: 'EMS',
        description: 'Your devices, their limits and their consumption; and, for administrators, accounts and devices.',
        lang: 'en',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#f6f8f7',
        theme_color: themeColor,
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: '/icons/icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
        navigateFallback: '/index.html',
        // Server routes that are not the app: a cached index.html must never stand in for them.
        navigateFallbackDenylist: [/^\/api(\/|$)/, /^\/ws$/, /^\/metrics$/, /^\/livez$/, /^\/readyz$/],
        clientsClaim: true,
        cleanupOutdatedCaches: true,
        // Web Push: showing pushed alerts and opening them (public/push-handler.js).
        importScripts: ['/push-handler.js'],
      },
    }),
  ],
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
    setupFiles: ['src/test/utc.ts'],
  },
});
