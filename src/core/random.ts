/**
 * Randomness and id generation, injectable for the same reason as the clock: tests that
 * need fixed ids can pass their own source.
 */

export interface RandomSource {
  /** A float in [0, 1). */
  random(): number;
  /** A random UUID (v4). */
  uuid(): string;
}

export const systemRandom: RandomSource = {
  random: () => Math.random(),
  uuid: () => crypto.randomUUID(),
};
