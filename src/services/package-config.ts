// The account-wide package configuration: whether Jobs writes installed versions to the `$package` shadow.
import type * as IoT from '@aws-sdk/client-iot';
import { validation } from '../protocol/errors.ts';
import { packageConfig } from '../store/catalog.ts';
import type { Handlers, RequestContext } from './context.ts';

export const packageConfigHandlers = {
  async GetPackageConfiguration(_input: IoT.GetPackageConfigurationRequest, ctx: RequestContext): Promise<IoT.GetPackageConfigurationResponse> {
    const row = await packageConfig.get(ctx.db, ctx.scope);
    return { versionUpdateByJobsConfig: { enabled: row?.enabled === 1, roleArn: row?.role_arn ?? undefined } };
  },

  async UpdatePackageConfiguration(input: IoT.UpdatePackageConfigurationRequest, ctx: RequestContext): Promise<IoT.UpdatePackageConfigurationResponse> {
    const config = input.versionUpdateByJobsConfig;
    if (!config) return {};
    const current = await packageConfig.get(ctx.db, ctx.scope);
    const enabled = config.enabled ?? current?.enabled === 1;
    const roleArn = config.roleArn ?? current?.role_arn ?? null;
    if (enabled && !roleArn) throw validation('versionUpdateByJobsConfig.roleArn is required to enable version updates by jobs');
    await packageConfig.put(ctx.db, { ...ctx.scope, enabled: enabled ? 1 : 0, role_arn: roleArn, updated_at: ctx.now.getTime() });
    return {};
  },
} satisfies Handlers<'iot'>;
