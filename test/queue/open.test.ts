import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TaskStoreError } from '../../src/queue/errors.js';
import { APPLICATION_ID } from '../../src/queue/sqlite/open-database.js';
import { MIGRATIONS } from '../../src/queue/sqlite/migrations.js';
import { openSqliteTaskStore } from '../../src/queue/sqlite-store.js';
import { request, useStoreFolder } from './helpers.js';

const folder = useStoreFolder();

function openError(path: string): TaskStoreError {
  try {
    openSqliteTaskStore({ path }).close();
  } catch (error) {
    if (error instanceof TaskStoreError) return error;
    throw error;
  }
  throw new Error(`opening ${path} did not fail`);
}

describe('opening the store', () => {
  it('creates the folder and a WAL-mode file marked as a Code4Py store at the current schema', () => {
    folder.open().close();
    const db = new Database(folder.path, { readonly: true });
    expect([db.pragma('journal_mode', { simple: true }), db.pragma('user_version', { simple: true }), db.pragma('application_id', { simple: true })]).toEqual([
      'wal',
      MIGRATIONS.length,
      APPLICATION_ID,
    ]);
    db.close();
  });

  it('keeps what an earlier process left when it is opened again', () => {
    const first = folder.open();
    const { task } = first.enqueue(request());
    first.close();
    expect(folder.open().getTask(task!.id)?.state).toBe('queued');
  });

  it('says which folder cannot be made and what to set', () => {
    writeFileSync(join(folder.dir, 'a-file'), 'x');
    const error = openError(join(folder.dir, 'a-file', 'sub', 'code4py.db'));
    expect(error.message).toMatch(/cannot create the folder .*a-file\/sub for the task store .*ENOTDIR.*Set CODE4PY_DB_PATH/);
  });

  it('names a file that is not a SQLite database and says what to do', () => {
    const path = join(folder.dir, 'junk.db');
    writeFileSync(path, 'this is not sqlite '.repeat(100));
    const error = openError(path);
    expect(error.path).toBe(path);
    expect(error.message).toMatch(/cannot open the task store .*junk\.db: file is not a database\. The file is not a SQLite database: set CODE4PY_DB_PATH to another file/);
  });

  it('refuses a folder in place of the file', () => {
    const path = join(folder.dir, 'a-folder');
    mkdirSync(path);
    expect(openError(path).message).toMatch(/cannot open the task store .*a-folder.*CODE4PY_DB_PATH/);
  });

  it('refuses, untouched, a SQLite database of some other program', () => {
    const path = join(folder.dir, 'other.db');
    const other = new Database(path);
    other.exec('CREATE TABLE notes (body TEXT)');
    other.close();
    expect(openError(path).message).toMatch(/other\.db is a SQLite database, but not a Code4Py task store/);
    const again = new Database(path, { readonly: true });
    expect(again.pragma('journal_mode', { simple: true })).toBe('delete');
    again.close();
  });

  it('refuses a store written by a newer version', () => {
    folder.open().close();
    const db = new Database(folder.path);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(openError(folder.path).message).toMatch(/written by a newer Code4Py \(schema 2; this version knows up to 1\)/);
  });
});

describe('a row read back', () => {
  it('is parsed, so a damaged record is an error, not a wrong task', () => {
    const store = folder.open();
    const { task } = store.enqueue(request());
    const db = new Database(folder.path);
    db.prepare("UPDATE tasks SET request = json_set(request, '$.kind', 'format-disk') WHERE id = ?").run(task!.id);
    db.close();
    expect(() => store.getTask(task!.id)).toThrow(/kind/);
  });
});
