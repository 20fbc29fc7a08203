// packages/testing/README.md, "A clock under the test's control": a retry schedule run on the test
// clock. Type-checked, not run; the prelude stands for a test's transport, which answers every
// request with a 500, and its request.
import type { HttpRequest, HttpTransport } from "@certbound/core";
import { expect } from "vitest";

declare const transport: HttpTransport;
declare const request: HttpRequest;

// #region readme-testing-test-clock
import { imdsRetryPolicy, sendWithRetry } from "@certbound/core/credential-kit";
import { createTestClock } from "@certbound/testing";

const clock = createTestClock(); // each sleep moves time on by its duration and resolves at once
const response = await sendWithRetry(transport, request, { policy: imdsRetryPolicy, clock });
expect(response.status).toBe(500); // the last answer, after three retries
expect(clock.sleeps).toEqual([1000, 2000, 4000]); // IMDS's schedule, recorded without waiting
// #endregion readme-testing-test-clock
