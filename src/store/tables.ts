// The StoreTables port (`idp store copy`) on an organisation's SQLite file: its tables as SQLite describes them, rows
// read in key order a batch at a time, and a bulk load of a whole org in one BEGIN IMMEDIATE transaction.
import { join } from 'node:path';
import { IdpError } from '../core/errors.js';
import { SEALED_COLUMNS, SEALED_IN } from '../core/sealed-cells.js';
import type { Cell, Row, StoreTables, TableInfo } from '../ports/store-tables.js';
import type { Db } from './db.js';
import { seal, unseal } from '../store-rows/seal.js';
import { loadKey, loadOrCreateKey, SEAL_KEY_FILE } from './seal.js';
import { bulkSettings } from './import.js';

/** Rows read per query: each batch is read whole, so no statement stays open while the caller awaits. */
const BATCH = 1000;

export class SqliteTables implements StoreTables {
  private layout: TableInfo[] | undefined;
  private key: Buffer | undefined;

  /** `home` holds the seal key; null for a blank store in memory, which holds nothing sealed. */
  constructor(
    readonly db: Db,
    private readonly home: string | null,
  ) {}

  async schemaVersion(): Promise<number> {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  async tables(): Promise<TableInfo[]> {
    this.layout ??= describe(this.db);
    return this.layout;
  }

  async *rows(table: string): AsyncIterable<Row> {
    const info = (await this.tables()).find((t) => t.name === table);
    if (!info) throw new IdpError('INTERNAL', `no table ${table} in this store`);
    const columns = info.columns.map(quote).join(', ');
    const order = info.key.map(quote).join(', ');
    const first = this.db.prepare(`SELECT ${columns} FROM ${quote(table)} ORDER BY ${order} LIMIT ${BATCH}`);
    const after = this.db.prepare(
      `SELECT ${columns} FROM ${quote(table)} WHERE (${order}) > (${info.key.map(() => '?').join(', ')}) ORDER BY ${order} LIMIT ${BATCH}`,
    );
    let batch = first.all() as Row[];
    while (batch.length > 0) {
      yield* batch;
      if (batch.length < BATCH) return;
      const last = batch[batch.length - 1]!;
      batch = after.all(...info.key.map((k) => last[k])) as Row[];
    }
  }

  async isEmpty(): Promise<boolean> {
    return (await this.tables()).every(
      (t) =>
        this.db
          .prepare(`SELECT EXISTS (SELECT 1 FROM ${quote(t.name)})`)
          .pluck()
          .get() === 0,
    );
  }

  /**
   * One transaction held across the rows' awaits: nothing else uses this connection while a copy runs. The insert
   * trigger guarding usernames stays: the rows come from a store that kept the same rule.
   */
  async load(tables: { table: string; rows: AsyncIterable<Row> }[]): Promise<void> {
    const layout = new Map((await this.tables()).map((t) => [t.name, t]));
    const restore = bulkSettings(this.db);
    this.db.exec('BEGIN IMMEDIATE');
    try {
      for (const { table, rows } of tables) {
        const info = layout.get(table);
        if (!info) throw new IdpError('INTERNAL', `no table ${table} in this store`);
        const insert = this.db.prepare(
          `INSERT INTO ${quote(table)} (${info.columns.map(quote).join(', ')}) VALUES (${info.columns.map(() => '?').join(', ')})`,
        );
        for await (const row of rows) insert.run(...info.columns.map((c): Cell => row[c] ?? null));
      }
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw err;
    } finally {
      restore();
    }
  }

  /** Seals with the org's key, made on first use (a copy's new destination gets its key file here, 0600). */
  seal(plaintext: string): string {
    this.key ??= loadOrCreateKey(this.keyFile());
    return seal(this.key, plaintext);
  }

  /** Opening never makes a key: a new one could open nothing. */
  unseal(sealed: string): string {
    this.key ??= loadKey(this.keyFile());
    return unseal(this.key, sealed);
  }

  private keyFile(): string {
    if (this.home === null) throw new IdpError('INTERNAL', 'a blank store in memory has no sealing key');
    return join(this.home, SEAL_KEY_FILE);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The org's tables, parents before children (each after the tables its foreign keys name), then by name. */
function describe(db: Db): TableInfo[] {
  const names = db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  const parents = new Map(
    names.map((name) => [
      name,
      (db.pragma(`foreign_key_list(${quote(name)})`) as { table: string }[])
        .map((fk) => fk.table)
        .filter((p) => p !== name),
    ]),
  );
  const ordered: string[] = [];
  const visit = (name: string): void => {
    if (ordered.includes(name)) return;
    for (const parent of parents.get(name) ?? []) visit(parent);
    ordered.push(name);
  };
  for (const name of names) visit(name);
  return ordered.map((name) => {
    const columns = db.pragma(`table_info(${quote(name)})`) as { name: string; pk: number }[];
    const key = columns
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name);
    return {
      name,
      columns: columns.map((c) => c.name),
      key,
      sealed: [...(SEALED_COLUMNS[name] ?? [])],
      sealedIn: (SEALED_IN[name] ?? []).map((s) => ({ ...s, in: [...s.in] })),
    };
  });
}
