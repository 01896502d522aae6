/**
 * Bumped whenever a prompt's wording changes, and recorded with each task, so a change in the
 * results can be traced to the prompt that produced them. Format: date, then a counter for the day.
 */
export const PROMPT_VERSION = '2026-12-01.1';
