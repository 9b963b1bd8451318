/**
 * Randomness and id generation, injectable for the same reason as the clock: tests that
 * need fixed ids can pass their own source.
 */

/**
 * Where the engine gets generated run ids and the values behind `ctx.random()` / `ctx.uuid()`.
 *
 * @example
 * let n = 0;
 * const random: RandomSource = { random: () => 0.5, uuid: () => `id-${++n}` };
 * const engine = await Engine.create({ storage: new MemoryStorage(), random });
 */
export interface RandomSource {
  /** A float in [0, 1). */
  random(): number;
  /** A random UUID (v4). */
  uuid(): string;
}

/** The default source: `Math.random` and `crypto.randomUUID`. */
export const systemRandom: RandomSource = {
  random: () => Math.random(),
  uuid: () => crypto.randomUUID(),
};
