/**
 * Flux post-build substitution, the part failover needs to reason about (kustomize-controller
 * runs drone/envsubst over the built YAML): `${VAR}`, `${VAR:=default}`, `${VAR:-default}`,
 * `${VAR=default}`, `${VAR-default}`, defaults nesting further `${...}`, and `$${VAR}` as the
 * escape for a literal `${VAR}`. Pure: no I/O.
 */

/** Where `${VAR` starts a use of VAR in `text` (nested defaults included, escapes skipped). */
export function variableUses(text: string, variable: string): number[] {
  // Any operator after the name counts (`}`, `:=`, `,,`, `^^`, `:0:3`, `/a/b`, `%x`), and
  // `${#VAR}` (its length): everything but a longer name.
  const pattern = new RegExp(`\\$\\{#?${escapeRegExp(variable)}(?![A-Za-z0-9_])`, "g");
  const found: number[] = [];
  for (const match of text.matchAll(pattern)) {
    const at = match.index ?? 0;
    if (at > 0 && text[at - 1] === "$") continue; // $${VAR}: Flux writes a literal ${VAR}
    found.push(at);
  }
  return found;
}

/** The variables a value reads, nested defaults included. */
export function variablesIn(value: string): string[] {
  return [
    ...new Set([...value.matchAll(/\$\{#?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? "")),
  ];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * What Flux renders `value` to with `vars` set, or undefined when it cannot tell (a variable
 * neither set nor defaulted, an operator failover does not know, unbalanced braces).
 */
export function evaluateSubstitution(
  value: string,
  vars: ReadonlyMap<string, string>,
): string | undefined {
  let out = "";
  let i = 0;
  while (i < value.length) {
    const start = value.indexOf("${", i);
    if (start < 0) {
      out += value.slice(i);
      break;
    }
    if (start > 0 && value[start - 1] === "$") {
      out += `${value.slice(i, start - 1)}\${`;
      i = start + 2;
      continue;
    }
    out += value.slice(i, start);
    const end = closingBrace(value, start + 2);
    if (end < 0) return undefined;
    const inner = value.slice(start + 2, end);
    const expr = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[=-])([\s\S]*))?$/.exec(inner);
    if (expr === null) return undefined;
    const [, name = "", operator, fallback] = expr;
    const set = vars.get(name);
    if (set !== undefined && !(operator?.startsWith(":") && set === "")) {
      out += set;
    } else if (operator !== undefined && fallback !== undefined) {
      const evaluated = evaluateSubstitution(fallback, vars);
      if (evaluated === undefined) return undefined;
      out += evaluated;
    } else {
      return undefined;
    }
    i = end + 1;
  }
  return out;
}

function closingBrace(value: string, from: number): number {
  let depth = 1;
  for (let i = from; i < value.length; i++) {
    if (value.startsWith("${", i)) {
      depth++;
      i++;
    } else if (value[i] === "}") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}
