/** Appends a key to a dotted YAML path; keys that contain dots are bracketed and quoted. */
export function childPath(path: string, key: string): string {
  return /^[A-Za-z0-9_/-]+$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}
