import { describe, expect, it } from 'vitest';
import { mergeRequirements } from '../../src/pipeline/requirements.js';

describe("a solution's dependencies in requirements.txt", () => {
  it('appends each project not declared yet, comparing names as PEP 503 does, and keeps the file as it was', () => {
    const existing = '# runtime\nrequests==2.31  # pinned\nPyYAML>=6 ; python_version >= "3.9"\n-r dev.txt';
    const merged = mergeRequirements(existing, ['requests>=2', 'pyyaml', 'Flask[async]>=3', 'flask', 'python_dateutil', 'python-dateutil']);
    expect(merged.added).toEqual(['Flask[async]>=3', 'python_dateutil']);
    expect(merged.text).toBe(`${existing}\nFlask[async]>=3\npython_dateutil\n`);
    expect(merged.refused).toEqual([]);
  });

  it('starts a file when there is none, and adds nothing when every project is declared', () => {
    expect(mergeRequirements(null, ['numpy>=1.26']).text).toBe('numpy>=1.26\n');
    expect(mergeRequirements('numpy\n', ['NumPy>=2'])).toEqual({ text: null, added: [], refused: [] });
  });

  it('refuses what is not one requirement: pip options, several lines, URLs and paths', () => {
    const merged = mergeRequirements('', ['--extra-index-url http://evil.example/simple', 'requests\n--index-url http://evil.example', 'pkg @ https://evil.example/pkg.whl', './local', 'not a requirement!']);
    expect(merged.text).toBeNull();
    expect(merged.refused.map((r) => r.reason)).toEqual([
      'a pip option, not a requirement',
      'not a single requirement line',
      'a URL or a path; only index requirements such as requests>=2 are added',
      'a URL or a path; only index requirements such as requests>=2 are added',
      'not a requirement pip can read, such as requests>=2',
    ]);
  });
});
