/**
 * The apps of the noisy-neighbour bench (bench/README.md): one well-behaved
 * victim and one attacker per attack of issue 5, as app sources.
 */

/** The attacks, in the order they are run. */
export const ATTACK_NAMES = ["cpu-spin", "sort", "background-loop", "memory-balloon", "gzip-subrequests", "gzip-stream", "huge-response"] as const;

export type AttackName = (typeof ATTACK_NAMES)[number];

export function isAttackName(value: string): value is AttackName {
  return (ATTACK_NAMES as readonly string[]).includes(value);
}

/** The server's inline threshold unless the harness's --inline-ms says otherwise: the `edgehost run` default. */
export const INLINE_MS_DEFAULT = 1;

/** The victim: a small text answer, served at /victim/. */
export const VICTIM_APP = `
export default {
  fetch() {
    return new Response("victim ok");
  },
};
`;

/** A trivial attacker for the baseline ("victim alone" still boots two apps, so the idle RSS compares). */
export const IDLE_ATTACKER_APP = `
export default {
  fetch() {
    return new Response("idle");
  },
};
`;

/**
 * Attacker sources. Each answers GET /attacker/ with its attack; `/attacker/fast`
 * answers at once (the sort attack sends fast requests first so that the
 * isolate's entries run inline on the front end's thread, as in issue 5).
 * The gzip attacker reads the bomb server's URL from env.BOMB_URL.
 */
export const ATTACKER_APPS: Readonly<Record<AttackName, string>> = {
  "cpu-spin": `
export default {
  fetch() {
    for (;;) {}
  },
};
`,
  sort: `
const d = new Float64Array(8e6);
for (let i = 0; i < d.length; i++) d[i] = Math.random();
export default {
  fetch(request) {
    if (request.url.endsWith("/fast")) return new Response("fast");
    d.sort();
    return new Response("sorted");
  },
};
`,
  // The loop fetches http://x.invalid/; a loopback port that refuses
  // keeps the bench off DNS and the network while failing just the same.
  "background-loop": `
function spin(ms) { const end = Date.now() + ms; while (Date.now() < end) {} }
function again() { fetch("http://127.0.0.1:9/").catch(again); spin(30); }
again();
export default {
  fetch(request, env, ctx) {
    again();
    return new Response("looping");
  },
};
`,
  "memory-balloon": `
export default {
  fetch() {
    const hold = [];
    for (;;) hold.push(new Array(100000).fill(1.5));
  },
};
`,
  "gzip-subrequests": `
export default {
  async fetch(request, env) {
    const bodies = await Promise.all(Array.from({ length: 6 }, () => fetch(env.BOMB_URL).then((r) => r.arrayBuffer())));
    return new Response(String(bodies.reduce((sum, body) => sum + body.byteLength, 0)));
  },
};
`,
  // The same bombs read a window at a time and thrown away: almost no CPU
  // of the isolate's own, so its requests end on the host's decoding charge
  // (cpu_limit, the isolate stays) rather than on a breach that recycles it.
  "gzip-stream": `
export default {
  async fetch(request, env) {
    const drain = async () => {
      const reader = (await fetch(env.BOMB_URL)).body.getReader();
      let bytes = 0;
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) bytes += chunk.value.byteLength;
      return bytes;
    };
    const sizes = await Promise.all(Array.from({ length: 6 }, drain));
    return new Response(String(sizes.reduce((sum, size) => sum + size, 0)));
  },
};
`,
  "huge-response": `
export default {
  fetch() {
    return new Response("x".repeat(512_000_000));
  },
};
`,
};
