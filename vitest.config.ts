import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // ONNX sessions and child processes are heavy on a 2-core machine: keep parallelism modest.
    maxWorkers: 2,
  },
});
