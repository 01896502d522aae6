/** JSON.parse for text a sandboxed run wrote: anything unparsable is null, to be rejected by the schema after it. */
export function parseJsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
