// `idp store copy` and `idp store verify`: an organisation moved table by table from one store into an empty one (of
// either engine) through the StoreTables port, sealed cells opened with the source's key and sealed with the
// destination's, then proved by a row count and a checksum per table read back from both sides.
import { createHash } from 'node:crypto';
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import type { Row, StoreTables, TableInfo } from '../ports/store-tables.js';

/** A store and the place it was named by (a data directory or a database URL), for messages. */
export interface NamedTables {
  location: string;
  tables: StoreTables;
}

export interface TableSum {
  table: string;
  rows: number;
  /** SHA-256 over the table's canonical cells in key order, sealed cells by the hash of what they hold. */
  checksum: string;
}

/** What a copy will do: every table of the source with its rows, into an empty destination of the same schema. */
export interface CopyPlan {
  from: string;
  to: string;
  schemaVersion: number;
  tables: TableSum[];
  rows: number;
}

export interface Verification {
  tables: (TableSum & { destination: TableSum; ok: boolean })[];
  ok: boolean;
}

/**
 * Plans a copy without writing anything: refused unless both stores are at one schema version with the same tables
 * and the destination holds nothing; reads the source once for its counts and checksums.
 */
export async function planCopy(from: NamedTables, to: NamedTables): Promise<CopyPlan> {
  const schemaVersion = await refusals(from, to);
  const tables = await checksums(from.tables);
  return { from: from.location, to: to.location, schemaVersion, tables, rows: tables.reduce((n, t) => n + t.rows, 0) };
}

/**
 * Carries out a plan: every table into the destination in one transaction (all or nothing), then verifies it against
 * the source, both read back. A mismatch is an error: the source changed during the copy, or the destination did.
 */
export async function applyCopy(plan: CopyPlan, from: NamedTables, to: NamedTables): Promise<Verification> {
  // Checked again on the store that is written: another copy may have filled it since the plan.
  await refusals(from, to);
  const layout = new Map((await from.tables.tables()).map((t) => [t.name, t]));
  // The plan's tables in the destination's order: each engine lists parents first its own way (unrelated tables may
  // come in another order), and the destination's foreign keys are the ones checked as rows go in.
  const planned = new Set(plan.tables.map((t) => t.table));
  const order = (await to.tables.tables()).map((t) => t.name).filter((name) => planned.has(name));
  await to.tables.load(order.map((table) => ({ table, rows: resealed(layout.get(table)!, from.tables, to.tables) })));
  const verification = await verifyCopy(from, to);
  if (!verification.ok) throw mismatch(from, to, verification);
  return verification;
}

/** Row counts and checksums of every table on both sides: equal when the destination holds what the source does. */
export async function verifyCopy(from: NamedTables, to: NamedTables): Promise<Verification> {
  await sameSchema(from, to);
  const [source, destination] = await Promise.all([checksums(from.tables), checksums(to.tables)]);
  const there = new Map(destination.map((sum) => [sum.table, sum]));
  const tables = source.map((sum) => {
    const other = there.get(sum.table)!;
    return { ...sum, destination: other, ok: other.rows === sum.rows && other.checksum === sum.checksum };
  });
  return { tables, ok: tables.every((t) => t.ok) };
}

/** The error a verification that failed is reported as, naming the tables that differ. */
export function mismatch(from: NamedTables, to: NamedTables, verification: Verification): IdpError {
  const differ = verification.tables
    .filter((t) => !t.ok)
    .map((t) => `${t.table} (${t.rows} rows, ${t.destination.rows} there)`);
  return new IdpError(
    'STORE_MISMATCH',
    `${to.location} does not hold what ${from.location} holds: ${differ.join(', ')} differ`,
    'stop every idp using either store, empty the destination and copy again',
  );
}

async function refusals(from: NamedTables, to: NamedTables): Promise<number> {
  const schemaVersion = await sameSchema(from, to);
  if (!(await to.tables.isEmpty()))
    throw new IdpError(
      'STORE_NOT_EMPTY',
      `${to.location} already holds an organisation: a copy goes into an empty store only`,
      'name an empty or new destination; nothing was written',
    );
  return schemaVersion;
}

/** The schema version both stores share; refused when they differ, in version or in their tables. */
async function sameSchema(from: NamedTables, to: NamedTables): Promise<number> {
  const [a, b] = await Promise.all([from.tables.schemaVersion(), to.tables.schemaVersion()]);
  if (a !== b) {
    const older = a < b ? from.location : to.location;
    throw new IdpError(
      'SCHEMA_MISMATCH',
      `${from.location} is at schema ${a} and ${to.location} at schema ${b}: a copy needs one schema on both sides`,
      hint`migrate the older one first: ${{ kind: 'store-migrate', location: older }}`,
    );
  }
  // Compared by name: both engines list parents before children, but may order tables that are not related apart.
  const [left, right] = await Promise.all([from.tables.tables(), to.tables.tables()]);
  if (JSON.stringify(byName(left)) !== JSON.stringify(byName(right)))
    throw new IdpError(
      'SCHEMA_MISMATCH',
      `${from.location} and ${to.location} are both at schema ${a} but their tables differ`,
      'copy between stores made by the same idp release',
    );
  return a;
}

function byName(tables: TableInfo[]): TableInfo[] {
  return [...tables].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Whether `column` of `row` holds a sealed value. */
function isSealed(table: TableInfo, column: string, row: Row): boolean {
  if (row[column] === null) return false;
  return (
    table.sealed.includes(column) ||
    table.sealedIn.some((s) => s.column === column && s.in.includes(String(row[s.where])))
  );
}

/** The source's rows of one table with each sealed cell opened by the source and sealed again by the destination. */
async function* resealed(table: TableInfo, from: StoreTables, to: StoreTables): AsyncIterable<Row> {
  const sealedColumns = [...table.sealed, ...table.sealedIn.map((s) => s.column)];
  for await (const row of from.rows(table.name)) {
    if (sealedColumns.length === 0) {
      yield row;
      continue;
    }
    const copy = { ...row };
    for (const column of sealedColumns)
      if (isSealed(table, column, row)) copy[column] = to.seal(from.unseal(row[column] as string));
    yield copy;
  }
}

/** Every table's count and checksum, in the store's table order. */
async function checksums(store: StoreTables): Promise<TableSum[]> {
  const sums: TableSum[] = [];
  for (const table of await store.tables()) {
    const hash = createHash('sha256');
    let rows = 0;
    for await (const row of store.rows(table.name)) {
      hash.update(canonical(table, row, store));
      rows++;
    }
    sums.push({ table: table.name, rows, checksum: hash.digest('hex') });
  }
  return sums;
}

/**
 * One row as the checksum reads it: its cells in column order as JSON, one line per row. A sealed cell counts as the
 * SHA-256 of what it holds: its ciphertext differs between two keys (and between two seals under one key).
 */
function canonical(table: TableInfo, row: Row, store: StoreTables): string {
  const cells = table.columns.map((column) =>
    isSealed(table, column, row)
      ? {
          sealed: createHash('sha256')
            .update(store.unseal(row[column] as string))
            .digest('hex'),
        }
      : (row[column] ?? null),
  );
  return `${JSON.stringify(cells)}\n`;
}
