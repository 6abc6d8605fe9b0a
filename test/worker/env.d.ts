declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** A location's x5u fetch limiter of 2 a minute (vitest.config.ts). */
    X5U_FETCH_LIMITER_OF_TWO: RateLimit;
  }
}
