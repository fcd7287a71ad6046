import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    // Packing after a record runs in the foreground, so that no detached packer is still
    // writing into a test's directory when the test removes it. The detached mode has its
    // own test (test/e2e/core-packing.test.ts), which asks for it explicitly.
    env: { MAILGIT_MAINTAIN: 'foreground' },
  },
});
