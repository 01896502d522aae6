import type { Intent } from '../schemas.js';

/** Per intent: issue titles as users write them, the modules they become, and how to build and test such code. */
export const INTENT_EXAMPLES: Readonly<Record<Intent, { issues: readonly (readonly [title: string, module: string])[]; approach: string }>> = {
  algorithm: {
    issues: [
      ['Add a function that returns the n-th prime number', 'primes'],
      ["Implement Dijkstra's shortest path on a weighted graph", 'shortest_path'],
    ],
    approach: 'pure functions with type hints; ValueError on invalid input; tests cover edge cases (0, 1, large n) with pytest.mark.parametrize',
  },
  data_processing: {
    issues: [
      ['Summarise sales.csv totals by region', 'sales_summary'],
      ['Deduplicate contacts exported as JSON by e-mail', 'contact_dedupe'],
    ],
    approach: 'functions take rows or file objects and return plain data (csv, json, collections from the standard library); tests build small inputs inline or in tmp_path',
  },
  web_scraping: {
    issues: [
      ['Collect the article titles from the blog index page', 'blog_titles'],
      ["Extract the product prices from a shop's HTML page", 'price_scraper'],
    ],
    approach: 'keep fetching (urllib.request, with a timeout) apart from parsing (html.parser on a string); tests parse inline HTML strings and never fetch',
  },
  automation: {
    issues: [
      ['Rename the photos in a folder by the date they were taken', 'photo_renamer'],
      ['Delete build folders older than 30 days', 'cleanup_builds'],
    ],
    approach: 'one function per step taking paths as parameters; pathlib; subprocess.run with an argument list and check=True, never shell=True; tests use tmp_path and monkeypatch',
  },
  cli: {
    issues: [
      ['Command-line tool that counts words in files', 'word_count'],
      ['Add a `todo` command to add, list and finish tasks', 'todo_cli'],
    ],
    approach: 'argparse; `def main(argv: list[str] | None = None) -> int` and `if __name__ == "__main__": raise SystemExit(main())`; tests call main([...]) and read capsys',
  },
  api_client: {
    issues: [
      ['Client for listing the releases of a GitHub repository', 'releases_client'],
      ['Fetch the current weather for a city from Open-Meteo', 'weather_client'],
    ],
    approach: 'a small class taking the base URL and an injectable transport (a function or session); a timeout on every request; clear errors for HTTP failures; tests pass a fake transport',
  },
  file_io: {
    issues: [
      ['Merge several JSON config files, later ones winning', 'config_merge'],
      ['Split a large log file into files of 10 MB', 'log_splitter'],
    ],
    approach: 'pathlib, explicit encoding="utf-8", context managers; write to a temporary file then replace; tests use tmp_path',
  },
  other: {
    issues: [
      ['Add a helper that formats durations as 1h 5m', 'durations'],
      ['Validate IBAN numbers', 'iban'],
    ],
    approach: 'the simplest design that meets each requirement; at least one test per requirement',
  },
};

/** One complete analysis, to show the level of detail wanted. */
export const ANALYSIS_EXAMPLE = {
  intent: 'cli',
  title: 'Add a word-count command-line tool',
  module: 'word_count',
  requirements: [
    'word_count FILE... prints each file name with its word count, then a total line',
    'words are runs of non-whitespace characters',
    'a missing file prints an error to stderr and exits with status 1',
  ],
  assumptions: ['files are UTF-8 text'],
  needs_clarification: false,
  questions: [],
};

/** One complete solution, to show the shape (content for a new file, null patch). */
export const SOLUTION_EXAMPLE = {
  summary: 'Adds word_count.py with count_words() and a CLI entry point, and tests for counting, totals and missing files.',
  files: [
    { path: 'word_count.py', content: '"""Count words in files."""\n…', patch: null },
    { path: 'tests/test_word_count.py', content: 'from word_count import count_words\n…', patch: null },
  ],
  dependencies: [],
};
