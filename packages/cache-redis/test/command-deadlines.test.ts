// One timer bounds every Redis command (CommandDeadlines): driven here by a hand-held clock and
// timer, so no test waits on the wall clock.
import { describe, expect, it } from "vitest";
import { CommandDeadlines, type DeadlineTimers } from "../src/command-deadlines";

function handTimers() {
  let now = 0;
  const armed: { at: number; fire: () => void; unrefed: boolean }[] = [];
  const timers: DeadlineTimers = {
    now: () => now,
    setTimeout(callback, ms) {
      const timer = { at: now + ms, fire: callback, unrefed: false };
      armed.push(timer);
      return {
        unref() {
          timer.unrefed = true;
        },
      };
    },
  };
  return {
    timers,
    armed,
    /** Moves the clock to `at` and fires the timers due by then, in order. */
    async advance(at: number) {
      now = at;
      for (;;) {
        const due = armed.filter((t) => t.at <= at).sort((a, b) => a.at - b.at)[0];
        if (due === undefined) break;
        armed.splice(armed.indexOf(due), 1);
        due.fire();
        await Promise.resolve();
      }
    },
  };
}

function reply<T>() {
  let settle!: { resolve: (value: T) => void; reject: (error: unknown) => void };
  const promise = new Promise<T>((resolve, reject) => {
    settle = { resolve, reject };
  });
  return { promise, ...settle };
}

const late = (command: string) => new Error(`${command} timed out`);
const flush = () => new Promise((r) => setImmediate(r));

describe("CommandDeadlines", () => {
  it("passes a reply or an error through, and arms one unref'd timer however many commands are in flight", async () => {
    const hand = handTimers();
    const deadlines = new CommandDeadlines(250, late, hand.timers);
    const a = reply<string>();
    const b = reply<string>();
    const first = deadlines.race("GET", a.promise);
    const second = deadlines.race("SET", b.promise);
    expect(hand.armed).toHaveLength(1);
    expect(hand.armed[0]).toMatchObject({ at: 250, unrefed: true });
    a.resolve("value");
    b.reject(new Error("WRONGTYPE"));
    await expect(first).resolves.toBe("value");
    await expect(second).rejects.toThrow("WRONGTYPE");
    expect(deadlines.inFlight).toBe(0);
    // The timer fires once, finds nothing in flight and does not arm itself again.
    await hand.advance(250);
    expect(hand.armed).toHaveLength(0);
  });

  it("times each command out at its own deadline, oldest first, and ignores a reply that comes later", async () => {
    const hand = handTimers();
    const deadlines = new CommandDeadlines(250, late, hand.timers);
    const replies = [reply<string>(), reply<string>(), reply<string>()];
    const outcomes: string[] = [];
    const race = (command: string, i: number) =>
      deadlines.race(command, (replies[i] as ReturnType<typeof reply<string>>).promise).then(
        (v) => outcomes.push(`${command} ${v}`),
        (e: Error) => outcomes.push(e.message),
      );
    const done = [race("GET", 0)];
    await hand.advance(100);
    done.push(race("SET", 1));
    await hand.advance(200);
    done.push(race("PTTL", 2));
    // At 250 only the first is due; the timer is armed again for the second (due at 350).
    await hand.advance(250);
    await flush();
    expect(outcomes).toEqual(["GET timed out"]);
    expect(hand.armed.map((t) => t.at)).toEqual([350]);
    replies[1]?.resolve("ok");
    await flush();
    // At 350 nothing is due any more; the third (due at 450) is.
    await hand.advance(449);
    expect(hand.armed.map((t) => t.at)).toEqual([450]);
    await hand.advance(450);
    await Promise.all(done);
    expect(outcomes).toEqual(["GET timed out", "SET ok", "PTTL timed out"]);
    // Redis answering after the timeout changes nothing.
    replies[0]?.resolve("late");
    replies[2]?.reject(new Error("late"));
    await flush();
    expect(outcomes).toHaveLength(3);
    expect(deadlines.inFlight).toBe(0);
    expect(hand.armed).toHaveLength(0);
  });

  it("arms at least 1 ms ahead, so a deadline a fraction of a millisecond away cannot spin", async () => {
    const hand = handTimers();
    const deadlines = new CommandDeadlines(250, late, hand.timers);
    const a = reply<string>();
    deadlines.race("GET", a.promise).catch(() => undefined);
    await hand.advance(0.5);
    const b = reply<string>();
    deadlines.race("GET", b.promise).catch(() => undefined);
    // The first times out at 250; the second is due at 250.5: armed 1 ms on, not 0.5.
    await hand.advance(250);
    expect(hand.armed.map((t) => t.at)).toEqual([251]);
    a.resolve("x");
    b.resolve("y");
  });
});
