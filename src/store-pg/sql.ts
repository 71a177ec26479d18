// How the repositories reach PostgreSQL: through the pool (each statement on its own) or through the one client of a
// unit of work, behind the same small interface; statements are prepared once per connection by name.
import type pg from 'pg';

export interface Sql {
  /** The rows a statement returns. */
  rows<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  /** The first row, or undefined. */
  row<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R | undefined>;
  /** How many rows a statement changed. */
  changes(text: string, values?: unknown[]): Promise<number>;
}

/** `$1, $2, ...` for `count` parameters starting after `offset`. */
export function placeholders(count: number, offset = 0): string {
  return Array.from({ length: count }, (_, i) => `$${offset + i + 1}`).join(', ');
}

const names = new Map<string, string>();

/**
 * A name per statement text: pg prepares a named statement once on each connection and reuses its plan, which saves
 * the server a parse and plan on every call of the few dozen statements a login runs.
 */
function nameOf(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `idp${names.size}`;
    names.set(text, name);
  }
  return name;
}

/** `on`: a pool or a client; `translate` turns a failure to reach the server into an IdpError. */
export function sqlOn(on: pg.Pool | pg.ClientBase, translate: (err: unknown) => unknown): Sql {
  const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => {
    try {
      return await on.query<R>({ name: nameOf(text), text, values });
    } catch (err) {
      throw translate(err);
    }
  };
  return {
    rows: async <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => (await query<R>(text, values)).rows,
    row: async <R extends pg.QueryResultRow>(text: string, values?: unknown[]) =>
      (await query<R>(text, values)).rows[0],
    changes: async (text, values) => (await query(text, values)).rowCount ?? 0,
  };
}
