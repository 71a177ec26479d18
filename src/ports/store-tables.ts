// The table-level view of a store that `idp store copy` moves an organisation through, between engines: every table's
// rows as engine-neutral values, in key order, and a bulk insert into an empty store. Both adapters implement it.

/** A cell as both engines hold it: text, a number (INTEGER and REAL columns), or null. */
export type Cell = string | number | null;
export type Row = Record<string, Cell>;

export interface TableInfo {
  name: string;
  /** Column names in a fixed order (the checksum hashes cells in this order). */
  columns: string[];
  /** The primary key's columns: rows are read in this order on both engines. */
  key: string[];
  /** Columns holding values sealed with the org's key: copy unseals them with the source's key and seals them again with the destination's. */
  sealed: string[];
  /** Columns sealed in some rows only: `column` where the row's `where` column is one of `in` (org_settings' secrets). */
  sealedIn: { column: string; where: string; in: string[] }[];
}

export interface StoreTables {
  /** The schema version both engines number together. */
  schemaVersion(): Promise<number>;
  /** Every table of the organisation, parents before children (the order a copy inserts in). */
  tables(): Promise<TableInfo[]>;
  /** The rows of one table in key order, a batch at a time. */
  rows(table: string): AsyncIterable<Row>;
  /** True when the store holds no organisation yet (a copy's destination must be empty). */
  isEmpty(): Promise<boolean>;
  /**
   * Writes every table's rows in one transaction: all or nothing. `rows` yields each table's rows in order; sealed
   * cells arrive already sealed with this store's key.
   */
  load(tables: { table: string; rows: AsyncIterable<Row> }[]): Promise<void>;
  seal(plaintext: string): string;
  unseal(sealed: string): string;
}
