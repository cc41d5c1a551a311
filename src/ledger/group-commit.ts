/**
 * Group commit: the writes that arrive within one turn of the event loop (reservations before
 * their requests are forwarded, records before their responses end) share one SQLite
 * transaction, and each caller resumes when it has committed. Under load one commit carries many
 * requests; a lone request waits no more than a turn. A crash loses only writes no caller has
 * been told are done: no request was forwarded, and no client saw the end of its response.
 * If the shared transaction fails, it rolls back whole and each write is tried again alone, so
 * one bad write cannot fail the others, and none is counted twice.
 */
import type Database from 'better-sqlite3';

interface Pending {
  write(): void;
  /** Runs synchronously right after the commit, before any other code can read the ledger. */
  committed?: () => void;
  resolve(): void;
  reject(err: unknown): void;
}

export class GroupCommit {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(private readonly db: Database.Database) {}

  /** Run `write` inside the next group transaction; resolves once that has committed. */
  write(write: () => void, committed?: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ write, committed, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commit what is queued now (also called on close). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    try {
      this.db.transaction(() => {
        for (const p of batch) p.write();
      })();
    } catch {
      for (const p of batch) {
        try {
          this.db.transaction(p.write)();
          p.committed?.();
          p.resolve();
        } catch (err) {
          p.reject(err);
        }
      }
      return;
    }
    for (const p of batch) p.committed?.();
    for (const p of batch) p.resolve();
  }
}
