import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Most tests wait on git, Dovecot, sshd and fsync rather than compute: on 2 cores, 4
    // workers ran the whole suite in 10:05 (CPU 960 s) where 2 took 16:16 (CPU 1030 s),
    // measured 2026-12-03 on the 2-core VM.
    maxWorkers: 4,
    // Packing after a record runs in the foreground, so that no detached packer is still
    // writing into a test's directory when the test removes it. The detached mode has its
    // own test (test/e2e/core-packing.test.ts), which asks for it explicitly.
    env: { MAILGIT_MAINTAIN: 'foreground' },
  },
});
