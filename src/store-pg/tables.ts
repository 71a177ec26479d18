// The table-level view of a PostgreSQL store (the StoreTables port, for `idp store copy`): tables read from the
// catalog, parents first; rows in key order a batch at a time; a whole org loaded in one transaction.
import type pg from 'pg';
import { IdpError } from '../core/errors.js';
import { SEALED_COLUMNS, SEALED_IN } from '../core/sealed-cells.js';
import type { Row, TableInfo } from '../ports/store-tables.js';
import { quoteIdent } from './connect.js';
import { VERSION_TABLE } from './migrations.js';
import type { Sql } from './sql.js';

/** Rows per read when walking a table, and the most parameters one INSERT binds (PostgreSQL's limit is 65535). */
const READ_BATCH = 1000;
const MAX_PARAMS = 60000;

/** Every org table of the current schema with its columns (in table order), key and sealed columns, parents first. */
export async function readTables(sql: Sql): Promise<TableInfo[]> {
  const columns = await sql.rows<{ table: string; column: string }>(
    `SELECT c.table_name AS "table", c.column_name AS "column" FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.table_name <> $1
     ORDER BY c.table_name, c.ordinal_position`,
    [VERSION_TABLE],
  );
  const keys = await sql.rows<{ table: string; column: string }>(
    `SELECT rel.relname AS "table", a.attname AS "column"
     FROM pg_index i JOIN pg_class rel ON rel.oid = i.indrelid
     JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true
     JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum = k.attnum
     WHERE i.indisprimary AND rel.relnamespace = current_schema()::regnamespace
     ORDER BY rel.relname, k.n`,
  );
  const references = await sql.rows<{ child: string; parent: string }>(
    `SELECT child.relname AS child, parent.relname AS parent FROM pg_constraint c
     JOIN pg_class child ON child.oid = c.conrelid JOIN pg_class parent ON parent.oid = c.confrelid
     WHERE c.contype = 'f' AND child.relnamespace = current_schema()::regnamespace`,
  );
  const infos = new Map<string, TableInfo>();
  for (const { table, column } of columns) {
    const info: TableInfo = infos.get(table) ?? {
      name: table,
      columns: [],
      key: [],
      sealed: [...(SEALED_COLUMNS[table] ?? [])],
      sealedIn: (SEALED_IN[table] ?? []).map((s) => ({ ...s, in: [...s.in] })),
    };
    info.columns.push(column);
    infos.set(table, info);
  }
  for (const { table, column } of keys) infos.get(table)?.key.push(column);
  return parentsFirst([...infos.values()], references);
}

/** Tables ordered so each comes after the tables it references; ties by name, so the order is the same every time. */
function parentsFirst(tables: TableInfo[], references: { child: string; parent: string }[]): TableInfo[] {
  const ordered: TableInfo[] = [];
  const placed = new Set<string>();
  const pending = [...tables].sort((a, b) => (a.name < b.name ? -1 : 1));
  while (pending.length > 0) {
    const i = pending.findIndex((t) =>
      references.every((r) => r.child !== t.name || r.parent === t.name || placed.has(r.parent)),
    );
    if (i < 0)
      throw new IdpError('INTERNAL', `the tables ${pending.map((t) => t.name).join(', ')} reference each other`);
    const [table] = pending.splice(i, 1);
    ordered.push(table!);
    placed.add(table!.name);
  }
  return ordered;
}

/** The rows of `table` in key order, READ_BATCH at a time (keyset pages: no cursor holds a connection in between). */
export async function* tableRows(sql: Sql, table: TableInfo): AsyncIterable<Row> {
  const cols = table.columns.map(quoteIdent).join(', ');
  const key = table.key.map(quoteIdent);
  const order = key.join(', ');
  let after: Row | undefined;
  for (;;) {
    const rows: Row[] =
      after === undefined
        ? await sql.rows<Row>(`SELECT ${cols} FROM ${quoteIdent(table.name)} ORDER BY ${order} LIMIT $1`, [READ_BATCH])
        : await sql.rows<Row>(
            `SELECT ${cols} FROM ${quoteIdent(table.name)} WHERE (${order}) > (${key.map((_, i) => `$${i + 1}`).join(', ')})
             ORDER BY ${order} LIMIT $${key.length + 1}`,
            [...table.key.map((k) => after![k]), READ_BATCH],
          );
    yield* rows;
    if (rows.length < READ_BATCH) return;
    after = rows[rows.length - 1];
  }
}

/** Whether no org table holds a row. */
export async function allEmpty(sql: Sql, tables: TableInfo[]): Promise<boolean> {
  for (const t of tables) if (await sql.row(`SELECT 1 FROM ${quoteIdent(t.name)} LIMIT 1`)) return false;
  return true;
}

/**
 * Inserts every table's rows on `client`, which holds the open transaction: multi-row INSERTs of as many rows as the
 * parameter limit allows. Identity columns (events and outbox ids) are then moved past the highest id loaded.
 */
export async function loadRows(
  client: pg.ClientBase,
  tables: TableInfo[],
  input: { table: string; rows: AsyncIterable<Row> }[],
): Promise<void> {
  const byName = new Map(tables.map((t) => [t.name, t]));
  for (const { table, rows } of input) {
    const info = byName.get(table);
    if (!info) throw new IdpError('INTERNAL', `the destination store has no table ${table}`);
    const perInsert = Math.max(1, Math.floor(MAX_PARAMS / info.columns.length));
    let batch: Row[] = [];
    for await (const row of rows) {
      batch.push(row);
      if (batch.length === perInsert) {
        await insertBatch(client, info, batch);
        batch = [];
      }
    }
    if (batch.length > 0) await insertBatch(client, info, batch);
  }
  await resetIdentities(client);
}

async function insertBatch(client: pg.ClientBase, info: TableInfo, rows: Row[]): Promise<void> {
  const n = info.columns.length;
  const values: unknown[] = [];
  const tuples = rows.map((row, r) => {
    for (const column of info.columns) {
      if (!(column in row))
        throw new IdpError('INTERNAL', `a row of ${info.name} has no ${column} column (the source's schema differs)`);
      values.push(row[column]);
    }
    return `(${info.columns.map((_, c) => `$${r * n + c + 1}`).join(', ')})`;
  });
  await client.query(
    `INSERT INTO ${quoteIdent(info.name)} (${info.columns.map(quoteIdent).join(', ')}) VALUES ${tuples.join(', ')}`,
    values,
  );
}

/** After rows were written with their ids, each identity column's next value is past the highest (1 for none). */
export async function resetIdentities(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ table: string; column: string }>(
    `SELECT table_name AS "table", column_name AS "column" FROM information_schema.columns
     WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY 1`,
  );
  for (const { table, column } of rows) {
    const t = quoteIdent(table);
    const c = quoteIdent(column);
    await client.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), coalesce((SELECT max(${c}) FROM ${t}), 0) + 1, false)`,
      [t, column],
    );
  }
}
