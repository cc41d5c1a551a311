/**
 * One process per SQLite ledger. Two processes on one file would each keep their own budget book
 * and each admit up to the cap, and a second process starting would settle the first one's open
 * reservations as if it had died. So the ledger takes `<file>.lock` (created exclusively, holding
 * the owner's pid); a lock whose owner is gone (a killed process) is taken over.
 */
import { openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';

export class LedgerLockedError extends Error {
  readonly code = 'LEDGER_LOCKED';
}

export function lockLedgerFile(dbPath: string): () => void {
  const lockPath = `${dbPath}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => releaseIfOurs(lockPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number(readSafely(lockPath));
    // Our own pid: a previous life of this process (a container restarts as pid 1) or this process reopening.
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new LedgerLockedError(
        `the ledger ${dbPath} is in use by another Tollgate process (pid ${owner}). Two processes on one SQLite file would each admit spending up to the cap: run one, or put several instances on PostgreSQL (database.url).`,
      );
    }
    try {
      unlinkSync(lockPath); // stale: its owner is gone
    } catch {
      /* another process took it over first: try again */
    }
  }
  throw new LedgerLockedError(`could not take the lock ${lockPath}; remove it if no Tollgate is running`);
}

function releaseIfOurs(lockPath: string): void {
  try {
    if (Number(readSafely(lockPath)) === process.pid) unlinkSync(lockPath);
  } catch {
    /* already gone */
  }
}

function readSafely(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by another user
  }
}
