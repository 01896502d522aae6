/**
 * A small library shaped like the open-source ones the bot meets: a package with lint and security debt,
 * a setup.py that shells out, tests that pickle, one test that already fails on the default branch, and
 * pytest settings of its own. Its changes are built on top of it in the tests.
 */
export const DEBT_LIBRARY: Record<string, string> = {
  'pyproject.toml': '[project]\nname = "mathlib"\nversion = "1.0.0"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\naddopts = "-ra"\n',
  'setup.py': 'import os\n\nos.system("echo building")\n',
  'mathlib/__init__.py': 'from mathlib.core import add, scale\n',
  'mathlib/core.py': [
    'import os, sys',
    '',
    '',
    'def add(a, b):',
    '    return a + b',
    '',
    '',
    'def scale(values, factor=1):',
    '    return [v * factor for v in values]',
    '',
    '',
    'def evaluate(expression):',
    '    return eval(expression)',
    '',
  ].join('\n'),
  'tests/__init__.py': '',
  'tests/test_core.py': [
    'import pickle',
    '',
    'from mathlib.core import add, evaluate, scale',
    '',
    '',
    'def test_add():',
    '    assert add(2, 3) == 5',
    '',
    '',
    'def test_add_negative():',
    '    assert add(-2, -3) == -5',
    '',
    '',
    'def test_scale():',
    '    assert scale([1, 2], 3) == [3, 6]',
    '',
    '',
    'def test_round_trip():',
    '    assert pickle.loads(pickle.dumps([1, 2])) == [1, 2]',
    '',
    '',
    'def test_evaluate_is_known_broken():',
    '    assert evaluate("1 + 1") == 3',
    '',
  ].join('\n'),
};

/** A correct change: a new module and its tests. */
export const ADD_MEAN: Record<string, string> = {
  'mathlib/stats.py': 'def mean(values):\n    """The arithmetic mean; ValueError for no values."""\n    if not values:\n        raise ValueError("mean of no values")\n    return sum(values) / len(values)\n',
  'tests/test_stats.py': 'import pytest\n\nfrom mathlib.stats import mean\n\n\ndef test_mean():\n    assert mean([1, 2, 3]) == 2\n\n\ndef test_mean_of_nothing():\n    with pytest.raises(ValueError):\n        mean([])\n',
};
