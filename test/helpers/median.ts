import type { Analysis, Solution } from '../../src/llm/index.js';

/** The median task the pipeline and `code4py generate` tests script: understood at once, with a solution that passes. */

export const MEDIAN_ANALYSIS: Analysis = {
  intent: 'algorithm',
  title: 'Add a median function',
  module: 'stats',
  requirements: ['median of a non-empty list of numbers', 'raises ValueError on an empty list'],
  assumptions: ['the list is not sorted'],
  needs_clarification: false,
  questions: [],
};

export const STATS_PY =
  'def median(values):\n    """Return the median of a non-empty list."""\n    if not values:\n        raise ValueError("empty")\n    ordered = sorted(values)\n    mid = len(ordered) // 2\n    if len(ordered) % 2:\n        return ordered[mid]\n    return (ordered[mid - 1] + ordered[mid]) / 2\n';

/** Three tests: an odd and an even length, and the empty list. */
export const TEST_STATS_PY =
  'import pytest\n\nfrom stats import median\n\n\ndef test_odd():\n    assert median([3, 1, 2]) == 2\n\n\ndef test_even():\n    assert median([4, 1, 2, 3]) == 2.5\n\n\ndef test_empty():\n    with pytest.raises(ValueError):\n        median([])\n';

export const MEDIAN_SOLUTION: Solution = {
  summary: 'A median function with tests.',
  files: [
    { path: 'stats.py', content: STATS_PY, patch: null },
    { path: 'test_stats.py', content: TEST_STATS_PY, patch: null },
  ],
  dependencies: [],
};
