import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CertificateSource, Credential } from "../../../src/certificate/certificate-source";
import type { TrustMaterial, TrustSource } from "../../../src/certificate/trust-store";
import { VerificationError } from "../../../src/verification/outcomes";
import type { VerifierOptions } from "../../../src/verification/verify-identity";
import { boundVerifier, Deadline, DEFAULT_DEPENDENCY_POLICY, dependencyChecks, describeError } from "../../../src/verdict/deadline";

/**
 * One verdict's time budget (issue 5), on fake timers: the wall clock the budget is measured with
 * (performance.now) moves only when a test advances it.
 */
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Work that settles only when the test says so. */
function pending<T>() {
  let settle!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (settle = resolve));
  return { promise, settle };
}

const background = () => {
  const handed: Promise<unknown>[] = [];
  return { handed, tasks: (promise: Promise<unknown>) => void handed.push(promise) };
};

describe("Deadline.within", () => {
  it("answers the work's value when it settles within the budget, and reports nothing", async () => {
    const deadline = new Deadline(100, background().tasks);
    expect(await deadline.within("x5u", async () => "credential", () => "fallback")).toBe("credential");
    expect(deadline.troubles).toEqual([]);
  });

  it("answers the fallback when the budget runs out first, hands the work to the background, and reports a timeout", async () => {
    const { handed, tasks } = background();
    const deadline = new Deadline(100, tasks);
    const work = pending<string>();
    const answer = deadline.within("roaming", () => work.promise, (trouble) => `fallback: ${trouble.problem}`);
    await vi.advanceTimersByTimeAsync(100);
    expect(await answer).toBe("fallback: timeout");
    expect(handed).toHaveLength(1);
    expect(deadline.troubles).toEqual([{ dependency: "roaming", problem: "timeout", detail: "no answer within the 100 ms verdict budget", evidence: { budgetMs: 100, elapsedMs: 100 } }]);
  });

  it("holds each of two dependencies waited on together to the budget, after the first settles", async () => {
    const deadline = new Deadline(100, background().tasks);
    const slow = pending<string>();
    const first = deadline.within("trust", async () => "trust set", () => "none");
    const second = deadline.within("rules", () => slow.promise, () => "last rules");
    expect(await first).toBe("trust set");
    await vi.advanceTimersByTimeAsync(100);
    expect(await second).toBe("last rules");
  });

  it("gives work atLeastMs when less of the budget is left, and no more", async () => {
    const deadline = new Deadline(100, background().tasks);
    await vi.advanceTimersByTimeAsync(90);
    const work = pending<string>();
    const answer = deadline.within("x5u", () => work.promise, () => "fallback", 50);
    await vi.advanceTimersByTimeAsync(40);
    work.settle("credential");
    expect(await answer).toBe("credential");

    const late = deadline.within("roaming", () => pending<string>().promise, () => "fallback", 50);
    await vi.advanceTimersByTimeAsync(50);
    expect(await late).toBe("fallback");
    expect(deadline.troubles[0]).toMatchObject({ dependency: "roaming", problem: "timeout", detail: "no answer within the 50 ms it is given whatever is left of the 100 ms verdict budget" });
  });

  it("reports a rejection, or a synchronous throw, as the dependency's error", async () => {
    const deadline = new Deadline(100, background().tasks);
    expect(await deadline.within("rules", () => Promise.reject(new Error("D1 is down")), (trouble) => trouble.detail)).toBe("D1 is down");
    expect(
      await deadline.within(
        "replay",
        () => {
          throw new TypeError("no binding");
        },
        (trouble) => trouble.problem,
      ),
    ).toBe("error");
    expect(deadline.troubles.map(({ dependency, problem }) => `${dependency}:${problem}`)).toEqual(["rules:error", "replay:error"]);
  });

  it("reports each dependency's first trouble once", async () => {
    const deadline = new Deadline(100, background().tasks);
    await deadline.within("trust", () => Promise.reject(new Error("first")), () => null);
    await deadline.within("trust", () => Promise.reject(new Error("second")), () => null);
    expect(deadline.troubles).toEqual([expect.objectContaining({ dependency: "trust", detail: "first" })]);
  });

  it("never counts time left or elapsed below zero", async () => {
    const deadline = new Deadline(100, background().tasks);
    await vi.advanceTimersByTimeAsync(150);
    expect(deadline.remainingMs()).toBe(0);
    expect(deadline.elapsedMs()).toBe(150);
  });
});

describe("describeError", () => {
  it("is an error's message, or the value as text, at most 200 characters", () => {
    expect(describeError(new Error("x".repeat(300)))).toBe("x".repeat(200));
    expect(describeError("timeout")).toBe("timeout");
  });
});

describe("dependencyChecks", () => {
  it("a trouble the policy allows is a warning with no finding; one it tags or blocks fails and asks for that action", async () => {
    const deadline = new Deadline(100, background().tasks);
    deadline.report({ dependency: "replay", problem: "error", detail: "DO down" });
    deadline.report({ dependency: "x5u", problem: "timeout", detail: "slow repository", evidence: { budgetMs: 100 } });
    deadline.report({ dependency: "rules", problem: "error", detail: "D1 down" });
    const { checks, findings } = dependencyChecks(deadline, { ...DEFAULT_DEPENDENCY_POLICY, rules: "block" });
    expect(checks).toEqual([
      { id: "store.replay", result: "warn", detail: "replay: DO down", evidence: { dependency: "replay", problem: "error", policy: "allow" } },
      { id: "deadline.x5u", result: "fail", detail: "x5u: slow repository", evidence: { dependency: "x5u", problem: "timeout", policy: "tag", budgetMs: 100 } },
      { id: "store.rules", result: "fail", detail: "rules: D1 down", evidence: { dependency: "rules", problem: "error", policy: "block" } },
    ]);
    expect(findings).toEqual([
      { checkId: "deadline.x5u", action: "tag", reason: "x5u: slow repository", label: "Caller ID checks incomplete" },
      { checkId: "store.rules", action: "block", reason: "rules: D1 down", sipCode: 603, label: "Caller ID checks incomplete" },
    ]);
  });
});

describe("boundVerifier", () => {
  const X5U = new URL("https://cr.example.net/sp.pem");
  const credential = { chain: "the credential" } as unknown as Credential;
  const material = (staleBecause: string | null): TrustMaterial => ({ version: "v7", anchors: [], crlSigners: [], crls: [], available: true, staleBecause });
  const options = (certificates: CertificateSource, trust: TrustSource) => ({ certificates, trust }) as unknown as VerifierOptions;

  it("answers a credential held in the isolate's cache without asking the repository", async () => {
    const asked: string[] = [];
    const bound = boundVerifier(options({ cached: () => credential, credential: async (x5u) => (asked.push(x5u.href), credential) }, { current: async () => material(null) }), new Deadline(100, () => {}));
    expect(await bound.certificates.credential(X5U)).toBe(credential);
    expect(asked).toEqual([]);
  });

  it("throws a repository's bad answer as it is (its own outcome), not as trouble with the dependency", async () => {
    const deadline = new Deadline(100, () => {});
    const refused = new VerificationError("X5U_FETCH_FAILED", "the repository answered 404");
    const bound = boundVerifier(options({ credential: () => Promise.reject(refused) }, { current: async () => material(null) }), deadline);
    await expect(bound.certificates.credential(X5U)).rejects.toBe(refused);
    expect(deadline.troubles).toEqual([]);
  });

  it("makes a certificate source that fails, or answers too late, an x5u failure and the dependency's trouble", async () => {
    const failing = new Deadline(100, () => {});
    const broken = boundVerifier(options({ credential: () => Promise.reject(new Error("KV down")) }, { current: async () => material(null) }), failing);
    await expect(broken.certificates.credential(X5U)).rejects.toMatchObject({ failure: "X5U_FETCH_FAILED", message: "certificate source failed: KV down" });
    expect(failing.troubles).toEqual([expect.objectContaining({ dependency: "x5u", problem: "error" })]);

    const slow = new Deadline(100, () => {});
    const hung = boundVerifier(options({ credential: () => new Promise<Credential>(() => {}) }, { current: async () => material(null) }), slow);
    const answer = expect(hung.certificates.credential(X5U)).rejects.toMatchObject({ failure: "X5U_FETCH_FAILED", message: "repository did not answer within the 100 ms verdict budget" });
    await vi.advanceTimersByTimeAsync(100);
    await answer;
  });

  it("takes fresh trust without a race, reports stale trust, and falls back on the last trust it saw, else none", async () => {
    const deadline = new Deadline(100, () => {});
    const fresh = material(null);
    let down = false;
    const source: TrustSource = { fresh: () => (down ? null : fresh), current: () => Promise.reject(new Error("KV down")) };
    const bound = boundVerifier(options({ credential: async () => credential }, source), deadline);
    expect(await bound.trust.current()).toBe(fresh);
    expect(deadline.troubles).toEqual([]);
    down = true;
    expect(await bound.trust.current()).toBe(fresh);
    expect(deadline.troubles).toEqual([expect.objectContaining({ dependency: "trust", problem: "error", detail: "KV down" })]);

    const staleDeadline = new Deadline(100, () => {});
    const stale = boundVerifier(options({ credential: async () => credential }, { current: async () => material("the last refresh failed") }), staleDeadline);
    expect((await stale.trust.current()).staleBecause).toBe("the last refresh failed");
    expect(staleDeadline.troubles).toEqual([{ dependency: "trust", problem: "error", detail: "the last refresh failed", evidence: { trustVersion: "v7" } }]);

    const never = boundVerifier(options({ credential: async () => credential }, { current: () => Promise.reject(new Error("KV down")) }), new Deadline(100, () => {}));
    expect(await never.trust.current()).toMatchObject({ available: false, version: "unavailable" });
  });
});
