// Opaque page tokens for keyset pagination: they name the last key served, so rows added or deleted
// between pages never shift what the next page returns.

const VERSION = 1;

export function encodePageToken(list: string, after: readonly string[]): string {
  return Buffer.from(JSON.stringify({ v: VERSION, l: list, a: after })).toString('base64url');
}

/** The key to continue after, or undefined when the token is not one this list issued. */
export function decodePageToken(list: string, token: string): string[] | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (parsed?.v !== VERSION || parsed.l !== list || !Array.isArray(parsed.a)) return undefined;
    if (!parsed.a.every((k: unknown) => typeof k === 'string')) return undefined;
    return parsed.a;
  } catch {
    return undefined;
  }
}

/** Splits a fetched page of `limit + 1` rows into the page and the token for the next one. */
export function pageOf<T>(rows: T[], limit: number, list: string, keyOf: (row: T) => string[]): { items: T[]; nextToken?: string } {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, nextToken: encodePageToken(list, keyOf(items[items.length - 1])) };
}
