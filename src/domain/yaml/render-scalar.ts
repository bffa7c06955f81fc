import { isScalar, parseDocument, type Scalar } from "yaml";

const PLAIN_SAFE = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;
/** YAML 1.1 (Kubernetes' parser) booleans and nulls that YAML 1.2 reads as strings. */
const YAML11_WORDS =
  /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL)$/;
/** Anything that could be a YAML 1.1 number or timestamp (deliberately broad). */
const NUMBER_LIKE = /^[-+.0-9][0-9a-fA-FxXoObB_.:+-]*$/;

function readsBackAsString(value: string): boolean {
  const doc = parseDocument(value);
  return doc.errors.length === 0 && isScalar(doc.contents) && doc.contents.value === value;
}

/**
 * True when `value` written plain reads back as the same string in YAML 1.2 and in YAML 1.1
 * (Kubernetes' own parser): no `yes`, `on`, `0755`, `1e3` or `2024-01-01` turning into non-strings.
 */
export function isPlainSafe(value: string): boolean {
  return (
    PLAIN_SAFE.test(value) &&
    !YAML11_WORDS.test(value) &&
    !NUMBER_LIKE.test(value) &&
    readsBackAsString(value)
  );
}

function hex4(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

export function doubleQuoted(value: string): string {
  // JSON escaping is valid YAML; also escape what YAML does not accept as printable.
  return JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g, hex4);
}

/** Characters a single-quoted scalar cannot hold verbatim (it has no escapes). */
function singleQuotable(value: string): boolean {
  for (const char of value) {
    const c = char.codePointAt(0) ?? 0;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) return false;
    if (c === 0xfeff || c === 0xfffe || c === 0xffff) return false;
  }
  return true;
}

/** The source text for `value` in the quoting style `like` was written in. */
export function renderLike(like: Scalar, value: string): string {
  switch (like.type) {
    case "QUOTE_SINGLE":
      return singleQuotable(value) ? `'${value.replace(/'/g, "''")}'` : doubleQuoted(value);
    case "QUOTE_DOUBLE":
      return doubleQuoted(value);
    default:
      return isPlainSafe(value) ? value : doubleQuoted(value);
  }
}
