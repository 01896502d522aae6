import type { Analysis, Solution } from '../../src/llm/index.js';

/** The task most bot tests script: a word counter, understood at once, with a solution that passes. */

export const ANALYSIS: Analysis = {
  intent: 'algorithm',
  title: 'Add a word counter',
  module: 'words',
  requirements: ['count the words of a text'],
  assumptions: ['words are separated by whitespace'],
  needs_clarification: false,
  questions: [],
};

export const WORDS_PY = 'def count_words(text: str) -> int:\n    """Count the whitespace-separated words of text."""\n    return len(text.split())\n';
export const TEST_WORDS_PY = 'from words import count_words\n\n\ndef test_counts():\n    assert count_words("a b  c") == 3\n\n\ndef test_empty():\n    assert count_words("") == 0\n';

export const SOLUTION: Solution = {
  summary: 'count_words() with tests.',
  files: [
    { path: 'words.py', content: WORDS_PY, patch: null },
    { path: 'test_words.py', content: TEST_WORDS_PY, patch: null },
  ],
  dependencies: [],
};
