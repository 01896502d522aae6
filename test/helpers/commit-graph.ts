/** A fake's commit history walked as git walks it: `parentsOf` gives a commit's parents (none when unknown). */
export type ParentsOf = (sha: string) => readonly string[];

/** Every commit reachable from `sha`, itself included. */
export function ancestors(parentsOf: ParentsOf, sha: string): Set<string> {
  const seen = new Set<string>();
  const stack = [sha];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...parentsOf(next));
  }
  return seen;
}

/** git's merge base: a common ancestor of both that no other common ancestor descends from; undefined when unrelated. */
export function mergeBase(parentsOf: ParentsOf, a: string, b: string): string | undefined {
  const ofB = ancestors(parentsOf, b);
  const common = [...ancestors(parentsOf, a)].filter((sha) => ofB.has(sha));
  return common.find((candidate) => !common.some((other) => other !== candidate && ancestors(parentsOf, other).has(candidate)));
}
