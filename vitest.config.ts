import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The suite runs its files in parallel on every core already; a model loaded without `threads`
    // would start a kernel worker per core on top (src/wasm/threads.ts defaultThreads). Tests that
    // are about threads ask for them explicitly, and one (threads.test.ts) checks the default.
    env: { QUANTSCOPE_THREADS: '1' },
  },
});
