// GetIndexingConfiguration and UpdateIndexingConfiguration: stored per account and region; search is not served.
import type * as IoT from '@aws-sdk/client-iot';
import { checkThingIndexing } from '../domain/things.ts';
import { indexingConfig } from '../store/things.ts';
import type { Handlers, RequestContext } from './context.ts';
import { check } from './things.ts';

const DEFAULT_THING: IoT.ThingIndexingConfiguration = { thingIndexingMode: 'OFF' };
const DEFAULT_GROUP: IoT.ThingGroupIndexingConfiguration = { thingGroupIndexingMode: 'OFF' };

async function current(ctx: RequestContext): Promise<{ thing: IoT.ThingIndexingConfiguration; group: IoT.ThingGroupIndexingConfiguration }> {
  const row = await indexingConfig.get(ctx.db, ctx.scope);
  return row ? { thing: JSON.parse(row.thing_config), group: JSON.parse(row.group_config) } : { thing: DEFAULT_THING, group: DEFAULT_GROUP };
}

export const indexingHandlers = {
  async GetIndexingConfiguration(_input: IoT.GetIndexingConfigurationRequest, ctx: RequestContext): Promise<IoT.GetIndexingConfigurationResponse> {
    const { thing, group } = await current(ctx);
    return { thingIndexingConfiguration: thing, thingGroupIndexingConfiguration: group };
  },

  async UpdateIndexingConfiguration(input: IoT.UpdateIndexingConfigurationRequest, ctx: RequestContext): Promise<IoT.UpdateIndexingConfigurationResponse> {
    const stored = await current(ctx);
    const thing = input.thingIndexingConfiguration ?? stored.thing;
    const group = input.thingGroupIndexingConfiguration ?? stored.group;
    check(checkThingIndexing(thing));
    await indexingConfig.put(ctx.db, { ...ctx.scope, thing_config: JSON.stringify(thing), group_config: JSON.stringify(group), updated_at: ctx.now.getTime() });
    return {};
  },
} satisfies Handlers<'iot'>;
