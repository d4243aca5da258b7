import { defineProject } from 'vitest/config';

/**
 * Runs this package's tests on their own (`pnpm vitest run --root packages/http-client`), with the
 * same settings as the workspace's per-package projects: sources through `@clone/source`.
 */
export default defineProject({
  ssr: { resolve: { conditions: ['@clone/source', 'module', 'node', 'development|production'] } },
  test: {
    name: 'telemetry',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
