// Reads maxResults/nextToken of a list request into a keyset page request.
import { decodePageToken, pageOf } from '../domain/pagination.ts';
import { validation } from '../protocol/errors.ts';

export interface PageRequest {
  after?: string[];
  limit: number;
  split<T>(rows: T[], keyOf: (row: T) => string[]): { items: T[]; nextToken?: string };
}

/** `list` names the listing (and its filters) so a token from another listing is refused; absent maxResults means the maximum. */
export function pageRequest(list: string, input: { maxResults?: number; nextToken?: string }, max: number, invalid = validation): PageRequest {
  const limit = input.maxResults ?? max;
  let after: string[] | undefined;
  if (input.nextToken !== undefined && input.nextToken !== '') {
    after = decodePageToken(list, input.nextToken);
    if (!after) throw invalid('The nextToken is not valid for this request');
  }
  return { after, limit, split: (rows, keyOf) => pageOf(rows, limit, list, keyOf) };
}
