import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The documentation a newcomer reads: a README short enough for the first hour, and docs that stand on
 * their own in a clone — every link to a file or a heading of the repository resolves, and nothing points
 * outside the repository.
 */

const ROOT = process.cwd();
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's anchor for a heading: lower case, punctuation dropped (but `-` and `_`), spaces to hyphens. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(join(ROOT, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchor(m[1]!)));
}

/** Markdown links `[text](target)` outside code blocks and code spans. */
function linksOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8').replace(/^(`{3,}|~{3,})[\s\S]*?^\1/gm, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

describe('the documentation', () => {
  it('has a README of at most about 250 lines', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length).toBeLessThanOrEqual(250);
  });

  it.each(DOCS)('%s links only to files and headings that exist in the repository', (file) => {
    const broken: string[] = [];
    for (const link of linksOf(file)) {
      if (/^(https?:|mailto:)/.test(link)) continue;
      const [path = '', hash] = link.split('#');
      const target = path === '' ? file : relative(ROOT, resolve(dirname(join(ROOT, file)), path));
      if (target.startsWith('..') || !existsSync(join(ROOT, target))) broken.push(`${link}: no file ${target} in the repository`);
      else if (hash && target.endsWith('.md') && !anchorsOf(target).has(hash)) broken.push(`${link}: no heading #${hash} in ${target}`);
    }
    expect(broken).toEqual([]);
  });

  it.each(DOCS)('%s names no file outside the repository', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    expect(text).not.toMatch(/DESIGN\.md|\/work\/|\.\.\/shared|(^|[\s(`'"])\.\.\/[\w.-]/m);
  });
});
