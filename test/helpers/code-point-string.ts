import fc from "fast-check";

const SURROGATES = 0xe000 - 0xd800;

/** One Unicode code point, surrogate halves excepted: what fast-check's "binary" unit draws. */
const codePoint = fc
  .integer({ min: 0, max: 0x10ffff - SURROGATES })
  .map((n) => String.fromCodePoint(n < 0xd800 ? n : n + SURROGATES));

/**
 * Strings of any code points, as `fc.string({ unit: "binary" })`, without its cost: fast-check
 * builds that unit's reverse mapping (all 1.1 million code points, for shrinking values it did
 * not generate) on first use, about a second of CPU in every test worker. These tests only
 * shrink what they generated, so a plain mapped integer does.
 */
export function codePointString(options: { maxLength: number }): fc.Arbitrary<string> {
  return fc.array(codePoint, { maxLength: options.maxLength }).map((units) => units.join(""));
}
