// Group commit (src/ledger/group-commit.ts): the writes of one event-loop turn share a
// transaction; a failing write must not fail or double-count the others.
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/ledger/group-commit.js';

let db: Database.Database;
let group: GroupCommit;

beforeEach(() => {
  db = new Database(':memory:');
  db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
  db.exec('CREATE TABLE tally (k TEXT PRIMARY KEY, total INTEGER NOT NULL)');
  db.exec("INSERT INTO tally VALUES ('all', 0)");
  group = new GroupCommit(db);
});
afterEach(() => db.close());

const insert = (id: string, n: number) => () => {
  db.prepare('INSERT INTO t (id, n) VALUES (?, ?)').run(id, n);
  db.prepare("UPDATE tally SET total = total + ? WHERE k = 'all'").run(n);
};
const total = () => (db.prepare("SELECT total FROM tally WHERE k = 'all'").get() as { total: number }).total;

describe('group commit', () => {
  it('writes queued in one turn commit in one transaction, and each caller resumes after it', async () => {
    const seenInTransaction: boolean[] = [];
    const writes = [1, 2, 3].map((n) =>
      group.write(() => {
        seenInTransaction.push(db.inTransaction);
        insert(`r${n}`, n)();
      }),
    );
    // Nothing is written before the turn ends.
    expect(total()).toBe(0);
    await Promise.all(writes);
    expect(seenInTransaction).toEqual([true, true, true]);
    expect(total()).toBe(6);
  });

  it('a failing write rolls the batch back, the others are retried alone and counted once', async () => {
    db.prepare('INSERT INTO t (id, n) VALUES (?, ?)').run('taken', 0);
    const committed: string[] = [];
    const results = await Promise.allSettled([
      group.write(insert('a', 10), () => committed.push('a')),
      group.write(insert('taken', 100), () => committed.push('taken')), // primary-key clash
      group.write(insert('b', 1000), () => committed.push('b')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(Error);
    expect(total()).toBe(1010);
    expect(db.prepare('SELECT COUNT(*) AS c FROM t').get()).toEqual({ c: 3 });
    expect(committed).toEqual(['a', 'b']);
  });

  it('the committed hook runs before any caller resumes', async () => {
    const order: string[] = [];
    const first = group.write(insert('x', 1), () => order.push('committed x'));
    const second = group.write(insert('y', 2), () => order.push('committed y'));
    void first.then(() => order.push('resumed x'));
    await second;
    order.push('resumed y');
    expect(order).toEqual(['committed x', 'committed y', 'resumed x', 'resumed y']);
  });

  it('flush commits what is queued at once (as on close)', () => {
    void group.write(insert('z', 7));
    group.flush();
    expect(total()).toBe(7);
  });
});
