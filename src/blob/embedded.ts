// The BlobStore over the embedded object storage; presigned URLs point at this server's S3 endpoint.
import type { BlobHead, BlobLocation, BlobObject, BlobScope, BlobStore } from './blob.ts';
import type { ObjectStore } from './object-store.ts';
import { presignUrl } from './presign.ts';
import type { S3ObjectRow } from '../store/schema.ts';

/** With `--auth off` any signature passes; this key's id is the scope's account, so the URL reads that account. */
const INTERNAL_SECRET = 'flotilla-internal-presign-key';

/** How this server signs the URLs it hands out: its `--auth` mode, keys and default account. */
export interface PresignSettings {
  auth: 'off' | 'sigv4';
  credentials: Map<string, string>;
  account: string;
}

export class EmbeddedBlobStore implements BlobStore {
  readonly kind = 'embedded';

  constructor(
    private readonly objects: ObjectStore,
    private readonly settings: PresignSettings,
    private readonly server: { apiUrl: string },
  ) {}

  private async find(scope: BlobScope, loc: BlobLocation): Promise<S3ObjectRow | undefined> {
    const row = await this.objects.findObject(scope.account, loc.bucket, loc.key, loc.version);
    return row && !row.delete_marker ? row : undefined;
  }

  async head(scope: BlobScope, loc: BlobLocation): Promise<BlobHead | undefined> {
    const row = await this.find(scope, loc);
    if (!row) return undefined;
    return { size: row.size, etag: row.etag, versionId: versionOf(row), contentType: row.content_type ?? undefined };
  }

  async get(scope: BlobScope, loc: BlobLocation): Promise<BlobObject | undefined> {
    const row = await this.find(scope, loc);
    if (!row) return undefined;
    const stream = await this.objects.files.openRead(row.storage_id!);
    if (!stream) return undefined;
    return { stream, size: row.size, versionId: versionOf(row) };
  }

  async presignGet(scope: BlobScope, loc: BlobLocation, expiresSec: number): Promise<string> {
    const { accessKeyId, secretAccessKey } = this.signer(scope);
    return presignUrl({
      endpoint: this.server.apiUrl,
      method: 'GET',
      bucket: loc.bucket,
      key: loc.key,
      versionId: loc.version,
      accessKeyId,
      secretAccessKey,
      region: scope.region,
      expiresSeconds: expiresSec,
    });
  }

  /**
   * The key URLs are signed with. With sigv4, a configured key of the scope's account: a URL signed with another
   * account's key would read that account's buckets. Without one, presigning is refused (never another account's key).
   */
  private signer(scope: BlobScope): { accessKeyId: string; secretAccessKey: string } {
    if (this.settings.auth === 'off') return { accessKeyId: scope.account, secretAccessKey: INTERNAL_SECRET };
    const accountOf = (key: string) => (/^\d{12}$/.test(key) ? key : this.settings.account);
    const own = [...this.settings.credentials].find(([key]) => accountOf(key) === scope.account);
    if (!own)
      throw new Error(
        `Cannot presign a URL for account ${scope.account}: no --credentials key belongs to it (a 12-digit key id is its account; other keys belong to --account)`,
      );
    return { accessKeyId: own[0], secretAccessKey: own[1] };
  }
}

const versionOf = (row: S3ObjectRow) => (row.version_id === 'null' ? undefined : row.version_id);
