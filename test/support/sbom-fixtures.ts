// The SBOM sample files in test/fixtures/sbom/ and their MANIFEST.tsv (expected verdict and error code per file).
import { readFileSync } from 'node:fs';

export const SBOM_FIXTURES = new URL('../fixtures/sbom/', import.meta.url);

export interface ManifestRow {
  file: string;
  format: string;
  specVersion: string;
  expected: 'valid' | 'invalid';
  errorCode: string;
  policy: string;
  source_path: string;
  note: string;
}

export function sbomManifest(): ManifestRow[] {
  const [header, ...lines] = readFileSync(new URL('MANIFEST.tsv', SBOM_FIXTURES), 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  const cols = header!.split('\t');
  return lines.map((line) => {
    const cells = line.split('\t');
    return Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? ''])) as unknown as ManifestRow;
  });
}

export const sbomFixture = (file: string): Buffer => readFileSync(new URL(file, SBOM_FIXTURES));
