// The account's event configuration: UpdateEventConfigurations, DescribeEventConfigurations. The rollout engine and
// the jobs handlers publish JOB and JOB_EXECUTION events only while their type is enabled here.
import type * as IoT from '@aws-sdk/client-iot';
import { invalidRequest } from '../protocol/errors.ts';
import { eventConfigs, type EventConfig } from '../store/event-config.ts';
import type { RequestContext } from './context.ts';

const EVENT_TYPES = [
  'THING',
  'THING_GROUP',
  'THING_TYPE',
  'THING_GROUP_MEMBERSHIP',
  'THING_GROUP_HIERARCHY',
  'THING_TYPE_ASSOCIATION',
  'JOB',
  'JOB_EXECUTION',
  'POLICY',
  'CERTIFICATE',
  'CA_CERTIFICATE',
];

export const eventConfigurationHandlers = {
  async DescribeEventConfigurations(_input: IoT.DescribeEventConfigurationsRequest, ctx: RequestContext): Promise<IoT.DescribeEventConfigurationsResponse> {
    const row = await eventConfigs.get(ctx.db, ctx.scope);
    const stored: EventConfig = row ? JSON.parse(row.config) : {};
    const eventConfigurations = Object.fromEntries(EVENT_TYPES.map((type) => [type, { Enabled: stored[type]?.Enabled === true }]));
    const at = row ? new Date(row.updated_at) : undefined;
    return { eventConfigurations, creationDate: at, lastModifiedDate: at };
  },

  async UpdateEventConfigurations(input: IoT.UpdateEventConfigurationsRequest, ctx: RequestContext): Promise<IoT.UpdateEventConfigurationsResponse> {
    const given = input.eventConfigurations ?? {};
    const unknown = Object.keys(given).filter((type) => !EVENT_TYPES.includes(type));
    if (unknown.length) throw invalidRequest(`Unknown event type ${unknown.join(', ')}; expected one of ${EVENT_TYPES.join(', ')}`);
    const row = await eventConfigs.get(ctx.db, ctx.scope);
    const config: EventConfig = row ? JSON.parse(row.config) : {};
    // Types left out keep their setting, as AWS merges the map into the stored configuration.
    for (const [type, value] of Object.entries(given)) if (value?.Enabled !== undefined) config[type] = { Enabled: value.Enabled };
    await eventConfigs.put(ctx.db, ctx.scope, config, ctx.now.getTime());
    return {};
  },
};
