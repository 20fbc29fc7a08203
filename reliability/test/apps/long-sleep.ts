// A wait longer than 2^31-1 ms must not turn into a 1 ms one (Node cuts overflowing timers to 1 ms).
import { systemClock } from "@certbound/core";

let fired = false;
void systemClock.sleep(2 ** 31).then(() => {
  fired = true;
});
setTimeout(() => {
  console.log(fired ? "fired early" : "still waiting");
  process.exit(0);
}, 200);
