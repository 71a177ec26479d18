// serve.json in the data directory: where the running `idp serve` of this org listens, so `idp doctor` can ask it.
// Written when it starts listening, removed when it stops.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SERVE_RECORD = 'serve.json';

export interface ServeRecord {
  pid: number;
  url: string;
  base: string;
  issuer: string;
  startedAt: string;
}

export function writeServeRecord(home: string, record: ServeRecord): void {
  writeFileSync(join(home, SERVE_RECORD), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

export function removeServeRecord(home: string, pid: number): void {
  // Only our own: another server started on this directory since owns the file now.
  if (readServeRecord(home)?.pid === pid) rmSync(join(home, SERVE_RECORD), { force: true });
}

export function readServeRecord(home: string): ServeRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(join(home, SERVE_RECORD), 'utf8')) as Partial<ServeRecord>;
    return typeof record.pid === 'number' && typeof record.url === 'string' ? (record as ServeRecord) : undefined;
  } catch {
    return undefined;
  }
}
