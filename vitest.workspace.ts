import { defineProject } from 'vitest/config';

/**
 * One vitest project per package. Vitest 4 no longer reads this file on its own:
 * the root vitest.config.ts imports it. Tests resolve sibling packages through the
 * `@clone/source` export condition, so they run against sources without a build.
 */
const packages = [
  'service-errors',
  'service-auth',
  'service-discovery',
  'grpc-proto',
  'saga',
  'event-bus',
  'http-client',
  'rate-limit',
  'distributed-saga',
  'gateway',
  'health',
  'telemetry',
].map((name) => [name, `./packages/${name}`] as const);
const roots = [...packages, ['test-servers', './tools/test-servers'] as const];

export const projects = [
  ...roots.map(([name, root]) =>
    defineProject({
      ssr: { resolve: { conditions: ['@clone/source', 'module', 'node', 'development|production'] } },
      test: {
        name,
        root,
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        environment: 'node',
        testTimeout: 30_000,
        hookTimeout: 60_000,
      },
    }),
  ),
  defineProject({
    ssr: { resolve: { conditions: ['@clone/source', 'module', 'node', 'development|production'] } },
    test: {
      name: 'docs',
      root: '.',
      include: ['docs/**/*.test.ts', 'examples/**/*.test.ts', 'scripts/**/*.test.ts'],
      environment: 'node',
      testTimeout: 120_000,
      hookTimeout: 120_000,
    },
  }),
];

export default projects;
